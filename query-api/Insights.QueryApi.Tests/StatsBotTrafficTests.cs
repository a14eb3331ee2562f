using Insights.DevStack.Testing;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>The processors keep bot and datacenter events, flagged; the stats count people only.</summary>
public sealed class StatsBotTrafficTests(DevStackFixture stack)
{
    [Fact]
    public async Task Flagged_bot_events_are_neither_page_views_nor_visitors()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var at = new DateTime(2026, 5, 1, 10, 0, 0, DateTimeKind.Utc);
        await db.InsertAsync(new TestEvent("e1", TestSites.Shop, at, "person", "/pricing"));
        await stack.InsertBotEventAsync(db.Name, "b1", "crawler", at, "crawler");
        await stack.InsertBotEventAsync(db.Name, "b2", "cloud", at, "datacenter");
        await using var api = db.StartApi();

        var stats = await api.CreateClient().StatsAsync("?from=2026-05-01&to=2026-05-02");

        Assert.Equal((1L, 1L), (stats.PageViews, stats.Visitors));
        Assert.Equal(1L, Assert.Single(stats.TopPages).Views);
    }
}
