using Insights.DevStack.Testing;
using Insights.QueryApi.Stats;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>Exact numbers from real ClickHouse through the real HTTP API.</summary>
public sealed class StatsEndpointTests(DevStackFixture stack)
{
    private static DateTime Utc(string iso) => DateTime.Parse(iso, System.Globalization.CultureInfo.InvariantCulture,
        System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal);

    // The shop reports in Europe/Berlin; 2026-03-29 is the night clocks jump from +01:00 to +02:00.
    // Range: 2026-03-28 .. 2026-04-01 local (exclusive) = 2026-03-27T23:00Z .. 2026-03-31T22:00Z.
    private static readonly TestEvent[] MarchEvents =
    [
        new("e1", TestSites.Shop, Utc("2026-03-27T23:30:00Z"), "v1", "/", ReferrerHost: "google.com"),           // 03-28 00:30 local
        new("e2", TestSites.Shop, Utc("2026-03-28T10:00:00Z"), "v1", "/pricing", ReferrerHost: "shop.example"),  // internal navigation
        new("e3", TestSites.Shop, Utc("2026-03-28T22:30:00Z"), "v2", "/pricing", ReferrerHost: "www.google.com"),// 03-28 23:30 local
        new("e4", TestSites.Shop, Utc("2026-03-28T23:30:00Z"), "v3", "/pricing", ReferrerHost: "news.ycombinator.com"), // 03-29 00:30 local
        new("e5", TestSites.Shop, Utc("2026-03-30T21:59:59Z"), "v1", "/"),                                       // 03-30 23:59:59 local, direct
        // Not counted: just before 'from', exactly at 'to', another site, a custom event.
        new("before", TestSites.Shop, Utc("2026-03-27T22:59:59Z"), "v9", "/old"),
        new("at-to", TestSites.Shop, Utc("2026-03-31T22:00:00Z"), "v9", "/old"),
        new("elsewhere", TestSites.Other, Utc("2026-03-28T10:00:00Z"), "v1", "/pricing", ReferrerHost: "google.com"),
        new("track", TestSites.Shop, Utc("2026-03-28T10:00:01Z"), "v4", "/pricing", ReferrerHost: "google.com", Type: "track"),
    ];

    [Fact]
    public async Task Stats_count_each_event_once_even_while_a_replayed_duplicate_is_unmerged()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await db.InsertAsync(MarchEvents);
        await db.InsertAsync(MarchEvents.Single(e => e.EventId == "e3")); // a replayed batch: same event, second part
        Assert.Equal(2UL, await db.RawRowCountAsync("e3"));            // the duplicate really is in the table

        await using var api = db.StartApi();
        var stats = await api.CreateClient().StatsAsync("?from=2026-03-28&to=2026-04-01&interval=day");

        Assert.Equal(5, stats.PageViews);
        Assert.Equal(3, stats.Visitors);
        Assert.Equal([new PageStats("/pricing", 3, 3), new PageStats("/", 2, 1)], stats.TopPages);
        Assert.Equal([new ReferrerStats("google.com", 2, 2), new ReferrerStats("news.ycombinator.com", 1, 1)], stats.TopReferrers);
        Assert.Equal(
        [
            new SeriesPoint(DateTimeOffset.Parse("2026-03-28T00:00:00+01:00", System.Globalization.CultureInfo.InvariantCulture), 3, 2, 0),
            new SeriesPoint(DateTimeOffset.Parse("2026-03-29T00:00:00+01:00", System.Globalization.CultureInfo.InvariantCulture), 1, 1, 0),
            new SeriesPoint(DateTimeOffset.Parse("2026-03-30T00:00:00+02:00", System.Globalization.CultureInfo.InvariantCulture), 1, 1, 0),
            new SeriesPoint(DateTimeOffset.Parse("2026-03-31T00:00:00+02:00", System.Globalization.CultureInfo.InvariantCulture), 0, 0, 0),
        ], stats.Series);
        Assert.Equal(TimeSpan.FromHours(1), stats.Series[0].Start.Offset);
        Assert.Equal(TimeSpan.FromHours(2), stats.Series[3].Start.Offset);
        Assert.Equal(("shop", "Europe/Berlin", "day"), (stats.Site, stats.TimeZone, stats.Interval));
        Assert.Equal(new DateTimeOffset(2026, 3, 28, 0, 0, 0, TimeSpan.FromHours(1)), stats.From);
        Assert.Equal(new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.FromHours(2)), stats.To);
    }

    [Fact]
    public async Task Limit_cuts_both_top_lists_and_keeps_the_most_viewed()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await db.InsertAsync(MarchEvents);
        await using var api = db.StartApi();

        var stats = await api.CreateClient().StatsAsync("?from=2026-03-28&to=2026-04-01&limit=1");

        Assert.Equal([new PageStats("/pricing", 3, 3)], stats.TopPages);
        Assert.Equal([new ReferrerStats("google.com", 2, 2)], stats.TopReferrers);
        Assert.Equal(5, stats.PageViews);
    }

    [Fact]
    public async Task Hourly_buckets_follow_the_sites_clock_through_the_autumn_change()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        // 2026-10-25 in Berlin: 02:00-03:00 happens twice, first at +02:00 (00:00Z) then at +01:00 (01:00Z).
        await db.InsertAsync(
            new TestEvent("first-0230", TestSites.Shop, Utc("2026-10-25T00:30:00Z"), "a"),
            new TestEvent("second-0230", TestSites.Shop, Utc("2026-10-25T01:30:00Z"), "b"),
            new TestEvent("second-0245", TestSites.Shop, Utc("2026-10-25T01:45:00Z"), "b"));
        await using var api = db.StartApi();

        var stats = await api.CreateClient().StatsAsync("?from=2026-10-25T00:00&to=2026-10-25T04:00&interval=hour");

        Assert.Equal("hour", stats.Interval);
        Assert.Equal(
        [
            "2026-10-25T00:00:00+02:00 0/0", "2026-10-25T01:00:00+02:00 0/0", "2026-10-25T02:00:00+02:00 1/1",
            "2026-10-25T02:00:00+01:00 2/1", "2026-10-25T03:00:00+01:00 0/0",
        ], stats.Series.Select(p => $"{p.Start:yyyy-MM-ddTHH:mm:sszzz} {p.Views}/{p.Visitors}"));
        Assert.Equal((3, 2), (stats.PageViews, stats.Visitors));
    }

    [Fact]
    public async Task Without_a_range_the_last_seven_days_including_today_are_reported()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var now = DateTime.UtcNow;
        await db.InsertAsync(
            new TestEvent("recent", TestSites.Other, now.AddMinutes(-1), "a", Host: "other.example"),
            new TestEvent("six-days", TestSites.Other, now.Date.AddDays(-6), "b", Host: "other.example"),
            new TestEvent("too-old", TestSites.Other, now.Date.AddDays(-6).AddSeconds(-1), "c", Host: "other.example"));
        await using var api = db.StartApi();

        var stats = await api.CreateClient().StatsAsync("", TestSites.Other, TestSites.OtherRead);

        Assert.Equal((2, 2), (stats.PageViews, stats.Visitors));
        Assert.Equal(7, stats.Series.Count);
        Assert.Equal(new DateTimeOffset(now.Date.AddDays(1), TimeSpan.Zero), stats.To);
        Assert.Equal(new DateTimeOffset(now.Date.AddDays(-6), TimeSpan.Zero), stats.Series[0].Start);
        Assert.Equal(2, stats.Series.Sum(p => p.Views));
    }

    [Fact]
    public async Task An_empty_range_reports_zeros_and_every_empty_bucket()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await using var api = db.StartApi();

        var stats = await api.CreateClient().StatsAsync("?from=2026-01-01&to=2026-01-04", TestSites.Other, TestSites.OtherRead);

        Assert.Equal((0, 0), (stats.PageViews, stats.Visitors));
        Assert.Empty(stats.TopPages);
        Assert.Empty(stats.TopReferrers);
        Assert.Equal(["2026-01-01", "2026-01-02", "2026-01-03"], stats.Series.Select(p => p.Start.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(stats.Series, p => Assert.Equal((0, 0), (p.Views, p.Visitors)));
    }

    [Fact]
    public async Task Both_key_headers_read_the_same_report()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await db.InsertAsync(MarchEvents);
        await using var api = db.StartApi();
        var client = api.CreateClient();

        using var viaHeader = await client.RequestAsync("/v1/sites/shop/stats?from=2026-03-28&to=2026-04-01", headerKey: TestSites.ShopRead);
        var stats = await viaHeader.ReadJsonAsync<StatsResponse>();

        Assert.Equal(System.Net.HttpStatusCode.OK, viaHeader.StatusCode);
        Assert.Equal(5, stats!.PageViews);
    }
}
