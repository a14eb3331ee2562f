using Insights.DevStack.Testing;

namespace Insights.Scaling.Tests;

/// <summary>
/// One instance of a service, as an operator runs it: its binary on a fixed loopback port, configured by environment
/// variables. Unlike the end-to-end tests' <c>ServiceProcess</c>, it can be stopped gracefully (SIGTERM, as a rolling
/// restart does) or killed, and started again on the same port with the same settings.
/// </summary>
internal sealed class Instance(string name, string project, IReadOnlyDictionary<string, string> environment) : IAsyncDisposable
{
    private TestProcess? process;

    public string Name { get; } = name;

    public Uri Address { get; } = new($"http://127.0.0.1:{TestProcess.FreePorts(1)[0]}");

    public bool Running => process is { HasExited: false };

    public string Output => process?.Output ?? "";

    public void Start()
    {
        if (process is not null)
        {
            throw new InvalidOperationException($"{Name} is running.");
        }

        var start = TestProcessStart.Dotnet(project, "--urls", Address.ToString().TrimEnd('/'));
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        process = TestProcess.Start(start);
    }

    public Task WaitUntilReadyAsync(TimeSpan timeout) =>
        (process ?? throw new InvalidOperationException($"{Name} is not started.")).WaitUntilHealthyAsync(Address, "/readyz", timeout);

    /// <summary>Stops the process (SIGTERM: drain and commit; SIGKILL: nothing runs) and waits for its end.</summary>
    public async Task<int> StopAsync(StopSignal signal, TimeSpan timeout)
    {
        var stopping = process ?? throw new InvalidOperationException($"{Name} is not started.");
        process = null;
        var exit = await stopping.StopAsync(timeout, signal);
        await stopping.DisposeAsync();
        return exit;
    }

    public async ValueTask DisposeAsync()
    {
        if (process is not null)
        {
            await process.DisposeAsync();
        }
    }
}
