using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Insights.DevStack.Testing;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// Back-pressure on <c>scripts/run.sh</c>: while its processors are stopped, its ingest takes events until the backlog
/// nears what the dev stack's broker keeps, then answers 503 with Retry-After (reason <c>backlog</c>), public keys first
/// and server keys later; once the processors catch up it takes events again, and every event it acknowledged is
/// counted once. The bound is set low here (256 KiB per partition, public keys from half of it) so a test reaches it in
/// seconds; run.sh's own is 4 MiB of the broker's 5 MiB.
/// It runs alone, after the tests that run side by side: it stops a system's processors and floods that system's
/// ingest, which would take the two cores from timing-sensitive tests such as the hostile-input storm.
/// </summary>
[Collection(nameof(BackpressureRunTests))]
public sealed class BackpressureRunTests(ITestOutputHelper output)
{
    private const int Visitors = 500;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_sh_answers_503_with_Retry_After_while_the_processors_are_behind_public_keys_first_and_every_acknowledged_event_is_counted()
    {
        await using var system = await RunningSystem.StartAsync("backpressure", configure: (environment, _) =>
        {
            environment["Ingest__Backlog__MaxBytesPerPartition"] = "262144";
            environment["Ingest__Backlog__PublicShare"] = "0.5";
        });
        var run = Guid.NewGuid().ToString("N")[..8];
        var path = $"/backpressure/{run}";
        using var http = new HttpClient { BaseAddress = system.Ingest, Timeout = TimeSpan.FromSeconds(30) };
        var processor = system.Script.Descendants().Single(p => p.CommandLine.Contains("Insights.Processors.dll", StringComparison.Ordinal)).Pid;
        var accepted = 0;
        var batch = 0;

        await SignalAsync("STOP", processor);
        try
        {
            // Public traffic until the gate closes for it.
            var (status, problem, retryAfter) = (HttpStatusCode.Accepted, default(JsonElement), (TimeSpan?)null);
            while (status == HttpStatusCode.Accepted)
            {
                Assert.True(batch < 3000, $"ingest still accepted public events after {accepted} of them with the processors stopped");
                (status, problem, retryAfter, var taken) = await RunTraffic.SendAsync(http, SystemFixture.WriteKey, path, run, batch++, Visitors, Ct);
                accepted += taken;
            }

            output.WriteLine($"public keys refused after {accepted} events: {problem}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("backlog", problem.GetProperty("reason").GetString());
            Assert.Contains("behind on partition", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value.TotalSeconds, 1, 60);
            var publicAccepted = accepted;

            // A server key (orders, server-side events) still has room above the public share ...
            (status, problem, _, var serverTaken) = await RunTraffic.SendAsync(http, SystemFixture.ServerKey, path, run, batch++, Visitors, Ct);
            Assert.True(status == HttpStatusCode.Accepted, $"a server key was refused right after the public gate closed: {problem}");
            accepted += serverTaken;

            // ... until the whole bound is reached.
            while (status == HttpStatusCode.Accepted)
            {
                Assert.True(batch < 6000, $"ingest still accepted server-key events after {accepted} events with the processors stopped");
                (status, problem, _, serverTaken) = await RunTraffic.SendAsync(http, SystemFixture.ServerKey, path, run, batch++, Visitors, Ct);
                accepted += serverTaken;
            }

            output.WriteLine($"server keys refused after {accepted - publicAccepted} more events: {problem}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("backlog", problem.GetProperty("reason").GetString());
            Assert.True(accepted > publicAccepted + RunTraffic.BatchEvents, $"server keys got no room of their own: {accepted - publicAccepted} events");
            Assert.Contains("insights_ingest_events_rejected_total{otel_scope_name=\"Insights.Ingest\",reason=\"backlog\"}",
                await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct), StringComparison.Ordinal);
        }
        finally
        {
            await SignalAsync("CONT", processor);
        }

        // The processors catch up; a sender that waits as Retry-After says is taken again.
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (status, problem, retryAfter, taken) = await RunTraffic.SendAsync(http, SystemFixture.WriteKey, path, run, batch++, Visitors, Ct);
            accepted += taken;
            if (status == HttpStatusCode.Accepted)
            {
                break;
            }

            Assert.Equal("backlog", problem.GetProperty("reason").GetString());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(180), $"ingest still refused public events 180 s after the processors resumed: {problem}");
            await Task.Delay(retryAfter ?? TimeSpan.FromSeconds(1), Ct);
        }

        output.WriteLine($"public keys taken again {clock.Elapsed.TotalSeconds:F1} s after the processors resumed");
        var (views, _) = await RunTraffic.WaitForPageAsync(system.Query, path, accepted, () => system.Script.Output, Ct);
        Assert.Equal(accepted, views);
        output.WriteLine($"{accepted} acknowledged page views, {views} counted");
        Assert.Equal(0, await system.Script.StopAsync(TimeSpan.FromSeconds(60), StopSignal.Interrupt));
    }

    private static async Task SignalAsync(string signal, int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]))!;
        await kill.WaitForExitAsync(Ct);
        Assert.Equal(0, kill.ExitCode);
    }
}

/// <summary>The collection <see cref="BackpressureRunTests"/> runs in: alone, never beside another test.</summary>
[CollectionDefinition(nameof(BackpressureRunTests), DisableParallelization = true)]
public sealed class BackpressureRunCollection;
