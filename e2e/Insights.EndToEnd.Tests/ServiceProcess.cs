using Insights.DevStack.Testing;

namespace Insights.EndToEnd.Tests;

/// <summary>One Insights service run as users run it: its own binary on a free loopback port, configured by environment variables.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly TestProcess process;

    private ServiceProcess(TestProcess process, Uri address)
    {
        this.process = process;
        Address = address;
    }

    public Uri Address { get; }

    public string Output => process.Output;

    public static ServiceProcess Start(string project, IReadOnlyDictionary<string, string> environment)
    {
        var address = new Uri($"http://127.0.0.1:{TestProcess.FreePorts(1)[0]}");
        var start = TestProcessStart.Dotnet(project, "--urls", address.ToString().TrimEnd('/'));
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return new ServiceProcess(TestProcess.Start(start), address);
    }

    /// <summary>Waits until the service answers on the given path with 2xx.</summary>
    public Task WaitUntilHealthyAsync(string path, TimeSpan timeout) => process.WaitUntilHealthyAsync(Address, path, timeout);

    /// <summary>SIGKILL: the services' own tests cover graceful stops.</summary>
    public ValueTask DisposeAsync() => process.DisposeAsync();
}
