using System.Diagnostics;
using ClickHouse.Driver;
using Insights.DevStack.Testing;

namespace Insights.DevStack.Tests.Process;

/// <summary>The dev stack as a process: start, refuse a busy data directory, keep data, stop cleanly.</summary>
public sealed class DevStackProcessTests : IDisposable
{
    private readonly string work = Directory.CreateTempSubdirectory("insights-devstack-process-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_second_instance_on_the_same_data_directory_fails_at_once_and_sigterm_exits_zero()
    {
        var data = Path.Combine(work, "clickhouse");
        await using var first = DevStackProcess.Start(data, Path.Combine(work, "first.env"));
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));

        var clock = Stopwatch.StartNew();
        await using var second = DevStackProcess.Start(data, Path.Combine(work, "second.env"));
        var secondExit = await second.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, secondExit);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        Assert.Contains("Only one process may use a data directory", second.Process.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(work, "second.env")));

        Assert.Equal(0, await first.StopAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("Dev stack stopped", first.Process.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(first.EnvFile), "the address file goes away with the stack");
    }

    [Fact]
    public async Task ClickHouse_data_survives_a_restart()
    {
        var data = Path.Combine(work, "clickhouse");
        await using (var stack = DevStackProcess.Start(data, Path.Combine(work, "a.env")))
        {
            var addresses = await stack.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            using var client = new ClickHouseClient(ConnectionString(addresses));
            await client.ExecuteNonQueryAsync("CREATE TABLE kept (n UInt32) ENGINE = MergeTree ORDER BY n", cancellationToken: Ct);
            await client.InsertBinaryAsync("kept", ["n"], Enumerable.Range(1, 1000).Select(i => new object[] { (uint)i }), cancellationToken: Ct);
            Assert.Equal(0, await stack.StopAsync(TimeSpan.FromSeconds(20)));
        }

        await using (var stack = DevStackProcess.Start(data, Path.Combine(work, "b.env")))
        {
            var addresses = await stack.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            using var client = new ClickHouseClient(ConnectionString(addresses));
            Assert.Equal(500500UL, await client.ExecuteScalarAsync("SELECT sum(n) FROM kept", cancellationToken: Ct));
        }
    }

    [Fact]
    public async Task A_clickhouse_outage_can_be_injected_and_lifted()
    {
        await using var stack = DevStackProcess.Start(Path.Combine(work, "clickhouse"), Path.Combine(work, "o.env"));
        var addresses = await stack.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        using var client = new ClickHouseClient(ConnectionString(addresses));
        using var http = new HttpClient { BaseAddress = new Uri(addresses["INSIGHTS_CLICKHOUSE_URL"]) };

        (await http.PostAsync(new Uri("/_devstack/clickhouse/down", UriKind.Relative), null, Ct)).EnsureSuccessStatusCode();
        var error = await Assert.ThrowsAsync<ClickHouseServerException>(() => client.ExecuteScalarAsync("SELECT 1", cancellationToken: Ct));
        Assert.Equal(210, error.ErrorCode);
        Assert.False(await client.PingAsync(cancellationToken: Ct));

        (await http.PostAsync(new Uri("/_devstack/clickhouse/up", UriKind.Relative), null, Ct)).EnsureSuccessStatusCode();
        Assert.Equal((byte)1, await client.ExecuteScalarAsync("SELECT 1", cancellationToken: Ct));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(work, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private static string ConnectionString(IReadOnlyDictionary<string, string> addresses)
    {
        var uri = new Uri(addresses["INSIGHTS_CLICKHOUSE_URL"]);
        return $"Host={uri.Host};Port={uri.Port};Username=default;Password=";
    }
}
