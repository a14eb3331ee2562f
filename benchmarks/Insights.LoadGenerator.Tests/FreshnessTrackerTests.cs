using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Insights.LoadGenerator.Tests;

/// <summary>The count before a run, from a query API that is slow to answer (a loaded machine) or not there at all.</summary>
public sealed class FreshnessTrackerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_count_that_times_out_is_asked_again_and_the_run_starts_from_the_answer()
    {
        var calls = 0;
        await using var api = await StatsApiAsync(async context =>
        {
            // The first two answers come after the tracker's timeout, as a stats report on a machine at load 60 did.
            if (Interlocked.Increment(ref calls) <= 2)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), context.RequestAborted);
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"pageViews": 42}""", context.RequestAborted);
        });
        using var tracker = new FreshnessTracker(api.Address, "loadtest", "key", DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1));

        await tracker.StartAsync(Ct);

        Assert.Equal(42, tracker.Baseline);
        Assert.Equal(3, calls);
    }

    [Theory]
    [InlineData(false, "&include=totals")]
    [InlineData(true, "")]
    public async Task The_poll_asks_for_the_runs_totals_only_unless_told_to_ask_for_the_full_report(bool fullReport, string include)
    {
        var asked = "";
        await using var api = await StatsApiAsync(async context =>
        {
            asked = context.Request.QueryString.Value ?? "";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"pageViews": 7}""", context.RequestAborted);
        });
        var runStart = new DateTimeOffset(2026, 12, 6, 10, 51, 35, 600, TimeSpan.Zero);
        using var tracker = new FreshnessTracker(api.Address, "loadtest", "key", runStart, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5), fullReport);

        await tracker.StartAsync(Ct);

        Assert.StartsWith("?from=2026-12-06T10:51:35Z&to=", asked, StringComparison.Ordinal);
        Assert.EndsWith("&interval=hour" + include, asked, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_api_that_never_answers_stops_the_run_with_the_way_out()
    {
        await using var api = await StatsApiAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        });
        using var tracker = new FreshnessTracker(api.Address, "loadtest", "key", DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(300));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => tracker.StartAsync(Ct));

        Assert.Contains("--query none", refused.Message, StringComparison.Ordinal);
        Assert.Contains("503", refused.Message, StringComparison.Ordinal);
    }

    private static Task<StandIn> StatsApiAsync(RequestDelegate answer) => StandIn.StartAsync(app => app.MapGet("/v1/sites/{site}/stats", answer));
}
