namespace Insights.DevStack.Testing;

/// <summary>
/// One dev stack process on loopback with free ports and the given data directory, as a user would run it
/// (<c>dotnet Insights.DevStack.dll</c>). Ready when it has written its address file; stopped with SIGTERM on disposal,
/// so its ClickHouse closes its data directory as it does for a user.
/// </summary>
public sealed class DevStackProcess : IAsyncDisposable
{
    private DevStackProcess(TestProcess process, string envFile)
    {
        Process = process;
        EnvFile = envFile;
    }

    public TestProcess Process { get; }

    public string EnvFile { get; }

    /// <summary>Starts the dev stack's build output beside this test run's (same configuration), or the dll that
    /// INSIGHTS_DEVSTACK_DLL names, with <paramref name="settings"/> (configuration keys such as
    /// <c>Kafka:Topics:NAME</c>) on its command line.</summary>
    public static DevStackProcess Start(string dataDirectory, string envFile, IReadOnlyDictionary<string, string>? settings = null)
    {
        string[] arguments =
        [
            "--data-dir", dataDirectory, "--clickhouse-port", "0", "--kafka-port", "0", "--env-file", envFile,
            .. (settings ?? new Dictionary<string, string>()).Select(s => $"--{s.Key}={s.Value}"),
        ];
        var start = Environment.GetEnvironmentVariable("INSIGHTS_DEVSTACK_DLL") is { Length: > 0 } dll
            ? TestProcessStart.DotnetDll("Insights.DevStack", dll, arguments)
            : TestProcessStart.Dotnet("Insights.DevStack", arguments);
        return new DevStackProcess(TestProcess.Start(start), envFile);
    }

    /// <summary>Waits for the address file and returns its KEY=VALUE pairs.</summary>
    public async Task<IReadOnlyDictionary<string, string>> WaitUntilReadyAsync(TimeSpan timeout)
    {
        await Process.WaitUntilAsync(() => File.Exists(EnvFile), "address file", timeout);
        return (await File.ReadAllLinesAsync(EnvFile))
            .Select(line => line.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);
    }

    /// <summary>Stops the stack the way Ctrl-C or a service manager does (SIGTERM) and returns its exit code.</summary>
    public Task<int> StopAsync(TimeSpan timeout) => Process.StopAsync(timeout);

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            try
            {
                await StopAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                // Already killed; disposal must not throw.
            }
        }

        await Process.DisposeAsync();
    }
}
