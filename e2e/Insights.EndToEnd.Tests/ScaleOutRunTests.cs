using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// Scaling out beside <c>scripts/run.sh</c> on one machine, as docs/production.md describes: a second ingest and a
/// second processor started from the build with run.sh's settings (its dev stack's addresses from the state
/// directory's <c>devstack.env</c>, its control-plane file) join the running system; the processors' group splits the
/// partitions, run.sh's own processor is then killed, and run.sh's query API still counts every event exactly once.
/// The full several-instances proof (two of each, rolling restarts) is e2e/Insights.Scaling.Tests.
/// </summary>
public sealed partial class ScaleOutRunTests(ITestOutputHelper output)
{
    private const int Visitors = 150;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_second_ingest_and_processor_join_run_sh_and_take_over_when_its_processor_dies()
    {
        await using var system = await RunningSystem.StartAsync("scale");
        var script = system.Script;
        var run = Guid.NewGuid().ToString("N")[..8];
        var path = $"/scale-out/{run}";

        // The settings run.sh gives its services, as an operator would copy them for another instance.
        var settings = RunScript.InstanceSettings(system.State);
        await using var secondProcessor = ServiceProcess.Start("Insights.Processors", settings);
        await using var secondIngest = ServiceProcess.Start("Insights.Ingest", settings);
        await Task.WhenAll(secondProcessor.WaitUntilHealthyAsync("/readyz", RunScript.StartTimeout),
            secondIngest.WaitUntilHealthyAsync("/readyz", RunScript.StartTimeout));
        Uri[] ingests = [system.Ingest, secondIngest.Address];
        var query = system.Query;

        // Both processors share the partitions: each writes some of what both ingests accept.
        var sent = 0;
        var batch = 0;
        var clock = Stopwatch.StartNew();
        while (await InsertedAsync(secondProcessor.Address) == 0 || await InsertedAsync(system.Processors) == 0)
        {
            sent += await SendAsync(ingests[batch % 2], path, run, batch++);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"the two processors did not both write within 120 s:\n{secondProcessor.Output}\n{script.Output}");
        }

        // run.sh's processor dies (SIGKILL: nothing committed); the second one takes its partitions over.
        var runShProcessor = script.Descendants().Single(p => p.CommandLine.Contains("Insights.Processors.dll", StringComparison.Ordinal));
        using (var victim = Process.GetProcessById(runShProcessor.Pid))
        {
            victim.Kill();
            await victim.WaitForExitAsync(Ct);
        }

        output.WriteLine($"run.sh's processor killed after {sent} events in {clock.Elapsed.TotalSeconds:F1} s");
        for (var i = 0; i < 20; i++)
        {
            sent += await SendAsync(ingests[batch % 2], path, run, batch++);
        }

        var (views, visitors) = await RunTraffic.WaitForPageAsync(query, path, sent, () => secondProcessor.Output, Ct);
        Assert.Equal(sent, views);
        Assert.Equal(Math.Min(sent, Visitors), visitors);
        output.WriteLine($"{sent} events through two ingests counted exactly once by run.sh's query API after {clock.Elapsed.TotalSeconds:F1} s");

        Assert.Equal(0, await script.StopAsync(TimeSpan.FromSeconds(60), StopSignal.Interrupt));
    }

    private static async Task<int> SendAsync(Uri ingest, string path, string run, int batch)
    {
        using var http = new HttpClient { BaseAddress = ingest, Timeout = TimeSpan.FromSeconds(30) };
        var answer = await RunTraffic.SendAsync(http, SystemFixture.WriteKey, path, run, batch, Visitors, Ct);
        Assert.True(answer.Status == HttpStatusCode.Accepted, $"{ingest} answered {answer.Status}: {answer.Problem}");
        return answer.Accepted;
    }

    /// <summary>Events a processor wrote to ClickHouse, from its own metric.</summary>
    private static async Task<double> InsertedAsync(Uri processor)
    {
        const string metric = "insights_processors_events_inserted_total";
        using var http = new HttpClient { BaseAddress = processor, Timeout = TimeSpan.FromSeconds(30) };
        return (await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct)).Split('\n')
            .Where(line => line.StartsWith(metric, StringComparison.Ordinal) && line.Length > metric.Length && line[metric.Length] is '{' or ' ')
            .Sum(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture));
    }
}
