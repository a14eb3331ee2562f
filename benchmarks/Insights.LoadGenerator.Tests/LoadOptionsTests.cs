namespace Insights.LoadGenerator.Tests;

/// <summary>The demo's command line as scripts/run.sh --demo passes it.</summary>
public sealed class LoadOptionsTests
{
    [Fact]
    public void The_demo_options_are_read_and_history_is_a_week_unless_asked_for_more()
    {
        Assert.Equal(7, LoadOptions.Parse([]).HistoryDays);

        var options = LoadOptions.Parse(["--history-days", "30", "--seed", "4", "--account", "/state/demo-account.json", "--invitation", "iin_abc"]);

        Assert.Equal((30, 4, "/state/demo-account.json", "iin_abc"), (options.HistoryDays, options.Seed, options.AccountFile, options.Invitation));
        Assert.Equal(365, LoadOptions.Parse(["--history-days", "5000"]).HistoryDays);
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--history-days", "-1"]));
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--account"]));
    }

    [Fact]
    public void The_freshness_probe_asks_for_the_totals_unless_told_to_ask_for_the_full_report()
    {
        Assert.False(LoadOptions.Parse([]).FullReportProbe);
        Assert.True(LoadOptions.Parse(["--probe", "full"]).FullReportProbe);
        Assert.False(LoadOptions.Parse(["--probe", "totals"]).FullReportProbe);
        Assert.Contains("totals or full", Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--probe", "lists"])).Message, StringComparison.Ordinal);
    }
}
