using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using ClickHouse.Driver.ADO;
using Xunit;

namespace Insights.DevStack.Testing;

/// <summary>
/// The dev stack for integration tests: the one given by <c>INSIGHTS_CLICKHOUSE_URL</c> and
/// <c>INSIGHTS_KAFKA_BOOTSTRAP</c> when both are set, otherwise a private one started once for the test run
/// (own data directory, free ports) and stopped with SIGTERM at its end. Use it as an xunit assembly
/// fixture; give each test its own database (<see cref="CreateDatabaseAsync"/>) and topics
/// (<see cref="NewTopicName"/>) so tests never see each other's data.
/// </summary>
public sealed partial class DevStackFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private Process? process;
    private string? workDirectory;
    private readonly StringBuilder output = new();

    public string ClickHouseUrl { get; private set; } = "";

    public string KafkaBootstrap { get; private set; } = "";

    /// <summary>Whether this fixture started the stack (and so may take its brokers down).</summary>
    public bool OwnsStack => process is not null;

    public async ValueTask InitializeAsync()
    {
        var url = Environment.GetEnvironmentVariable("INSIGHTS_CLICKHOUSE_URL");
        var bootstrap = Environment.GetEnvironmentVariable("INSIGHTS_KAFKA_BOOTSTRAP");
        if (!string.IsNullOrEmpty(url) && !string.IsNullOrEmpty(bootstrap))
        {
            (ClickHouseUrl, KafkaBootstrap) = (url, bootstrap);
            return;
        }

        workDirectory = Directory.CreateTempSubdirectory("insights-devstack-").FullName;
        var envFile = Path.Combine(workDirectory, "devstack.env");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     DevStackBinary(), "--data-dir", Path.Combine(workDirectory, "clickhouse"),
                     "--clickhouse-port", "0", "--kafka-port", "0", "--env-file", envFile,
                 })
        {
            start.ArgumentList.Add(arg);
        }

        process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the dev stack process.");
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (!File.Exists(envFile))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException(
                    $"The dev stack exited with code {process.ExitCode} before it was ready:\n{Output}");
            }

            if (deadline.Elapsed > StartTimeout)
            {
                throw new TimeoutException($"The dev stack was not ready after {StartTimeout.TotalSeconds} s:\n{Output}");
            }

            await Task.Delay(50);
        }

        var values = (await File.ReadAllLinesAsync(envFile))
            .Select(line => line.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);
        ClickHouseUrl = values["INSIGHTS_CLICKHOUSE_URL"];
        KafkaBootstrap = values["INSIGHTS_KAFKA_BOOTSTRAP"];
    }

    /// <summary>What the dev stack process printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>A ClickHouse.Driver connection string for the stack, optionally bound to a database.</summary>
    public string ConnectionString(string? database = null)
    {
        var uri = new Uri(ClickHouseUrl);
        var cs = $"Host={uri.Host};Port={uri.Port};Protocol={uri.Scheme};Username=default;Password=";
        return database is null ? cs : cs + $";Database={database}";
    }

    /// <summary>Creates a database no other test uses and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        var name = $"{Sanitize(prefix)}_{Guid.NewGuid():N}";
        using var connection = new ClickHouseConnection(ConnectionString());
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE {name}";
        await command.ExecuteNonQueryAsync();
        return name;
    }

    /// <summary>A topic name no other test uses (topics auto-create with 4 partitions on first use).</summary>
    public static string NewTopicName(string prefix = "test") => $"test.{Sanitize(prefix)}.{Guid.NewGuid():N}";

    /// <summary>Takes a mock Kafka broker down or up through the dev stack's fault-injection endpoint.</summary>
    public async Task SetKafkaBrokerAsync(int brokerId, bool up)
    {
        using var http = new HttpClient { BaseAddress = new Uri(ClickHouseUrl) };
        using var response = await http.PostAsync(new Uri($"/_devstack/kafka/brokers/{brokerId}/{(up ? "up" : "down")}", UriKind.Relative), null);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            _ = Kill(process.Id, 15); // SIGTERM: the dev stack closes the engine cleanly
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        process?.Dispose();
        if (workDirectory is not null)
        {
            try
            {
                Directory.Delete(workDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary directory is harmless; failing the test run over it is not.
            }
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Sanitize(string prefix) =>
        new(prefix.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_').ToArray());

    /// <summary>The dev stack's build output beside this test run's (same configuration), or INSIGHTS_DEVSTACK_DLL.</summary>
    private static string DevStackBinary()
    {
        if (Environment.GetEnvironmentVariable("INSIGHTS_DEVSTACK_DLL") is { Length: > 0 } explicitPath)
        {
            return explicitPath;
        }

        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testOutput.Name; // artifacts/bin/<project>/<configuration>
        var binRoot = testOutput.Parent?.Parent?.FullName ?? throw new InvalidOperationException("Unexpected test output layout.");
        var dll = Path.Combine(binRoot, "Insights.DevStack", configuration, "Insights.DevStack.dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"The dev stack binary is not at {dll}. Build the solution first (scripts/test.sh does).", dll);
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
