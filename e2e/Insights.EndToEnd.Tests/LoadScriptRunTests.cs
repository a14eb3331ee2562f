using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// <c>benchmarks/run-load.sh</c> as the README runs it, on a system started by <c>scripts/run.sh</c>: the processors are
/// paused and resumed twice (raw-producer ceiling, ingest alone), every backlog is drained, and the end-to-end run
/// still counts each acknowledged page view exactly once; the script ends with one row per issue-12 figure.
/// </summary>
public sealed partial class LoadScriptRunTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_load_script_drains_each_backlog_and_prints_every_figure_with_its_target_and_exact_counts()
    {
        await using var system = await RunningSystem.StartAsync("load-script", ports: 5);
        var (ports, environment) = (system.Ports, system.Environment);

        environment["RATES"] = "1000";
        environment["INSIGHTS_BARE_PORT"] = ports[4].ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (exit, output) = await RunScript.ScriptAsync("benchmarks/run-load.sh", environment, TimeSpan.FromMinutes(12), "5s", "2");
        Ct.ThrowIfCancellationRequested();

        Assert.True(exit == 0, output);
        var table = output[output.IndexOf("== issue 12 figures", StringComparison.Ordinal)..];
        foreach (var figure in new[]
        {
            "bare Kestrel", "raw producer to the same broker (ceiling)", "ingest alone, unthrottled", "processors drain (enrich, sessions, attribution)",
            "CPU per event of that drain, by process", "processors drain, raw producer's backlog", "processors RSS", "ingest peak RSS",
        })
        {
            Assert.Contains(figure, table, StringComparison.Ordinal);
        }

        // Both backlogs were produced (not zero) and drained by both consumer groups before the script went on.
        foreach (Match drained in DrainedLine().Matches(output))
        {
            Assert.True(long.Parse(drained.Groups["events"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, drained.Value);
        }

        Assert.Equal(2, DrainedLine().Matches(output).Count);

        // Each drain says where its CPU went, and the processors and the dev stack are seen doing its work.
        var splits = SplitLine().Matches(output);
        Assert.Equal(2, splits.Count);
        foreach (Match split in splits)
        {
            Assert.True(double.Parse(split.Groups["processors"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, split.Value);
            Assert.True(double.Parse(split.Groups["devstack"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, split.Value);
        }
        // And how often the processors' collector ran during it, from the runtime's own counters. The two backlogs hold
        // tens of thousands of events at several kilobytes allocated each, far past a young generation's budget, so
        // the runtime collected at least once over both drains.
        var collections = GcLine().Matches(output);
        Assert.Equal(2, collections.Count);
        Assert.True(collections.Sum(gc => new[] { "gen0", "gen1", "gen2" }.Sum(g => int.Parse(gc.Groups[g].Value, System.Globalization.CultureInfo.InvariantCulture))) > 0,
            string.Join("\n", collections.Select(gc => gc.Value)));

        var exact = ExactRow().Match(table);
        Assert.True(exact.Success, table);
        Assert.Equal(exact.Groups["acknowledged"].Value, exact.Groups["counted"].Value);
        Assert.Equal("PASS", exact.Groups["verdict"].Value);
    }

    [GeneratedRegex(@"drained (?<events>\d+) events in")]
    private static partial Regex DrainedLine();

    [GeneratedRegex(@"CPU per event over the drain, by process: together [\d.]+ µs: processors (?<processors>[\d.]+) .*, dev stack (?<devstack>[\d.]+) ")]
    private static partial Regex SplitLine();

    [GeneratedRegex(@"the processors' GC over the drain: (?<gen0>\d+) gen0, (?<gen1>\d+) gen1, (?<gen2>\d+) gen2 collections; paused [\d.]+ s \(\d+ % of the drain\)")]
    private static partial Regex GcLine();

    [GeneratedRegex(@"@1000: exactness \(page views acknowledged = counted\)\s+(?<acknowledged>\d+) / (?<counted>\d+)\s+equal\s+(?<verdict>PASS|MISS)")]
    private static partial Regex ExactRow();
}
