using System.Globalization;
using System.Net;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.DevStack.Testing;
using Insights.QueryApi.Stats;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>
/// The overview's page-view figures come from the quarter-hour visitor rollup and a plain count when nothing is
/// filtered, and from the events otherwise (StatsStore). Whatever the path, the answer must be the raw scan's: these
/// tests compute every figure again straight from <c>events FINAL</c> and compare, on traffic that has what can go
/// wrong — a replayed duplicate still unmerged, page views without a visitor id, a custom event, another site, times off
/// the quarter hours, and zones whose midnight is not on a whole UTC hour.
/// </summary>
public sealed class StatsRollupTests(DevStackFixture stack)
{
    private static readonly DateTime Start = new(2026, 4, 30, 18, 7, 0, DateTimeKind.Utc);

    /// <summary>~600 page views over six days by 40 visitors on 7 paths, at odd minutes; some without a visitor id.</summary>
    private static TestEvent[] Traffic()
    {
        var events = new List<TestEvent>();
        for (var i = 0; i < 600; i++)
        {
            var at = Start.AddMinutes(i * 13.7 + (i % 7) * 0.37);
            var visitor = i % 23 == 0 ? "" : $"v{(i * 7) % 40}";
            var path = $"/p{(i * i) % 7}";
            var referrer = (i % 5, i % 3) switch
            {
                (0, 0) => "google.com",
                (0, _) => "WWW.Google.com", // the same referrer
                (1, 0) => "www.shop.example", // the site's own host: not a referrer
                (2, 0) => "bing.com",
                _ => "",
            };
            events.Add(new TestEvent($"e{i}", TestSites.Shop, at, visitor, path, ReferrerHost: referrer));
        }

        events.Add(new TestEvent("custom", TestSites.Shop, Start.AddHours(30), "v1", "/p1", Type: "track"));
        events.Add(new TestEvent("elsewhere", TestSites.Other, Start.AddHours(30), "v1", "/p1"));
        events.Add(new TestEvent("löwe-ü", TestSites.Shop, Start.AddHours(40), "bésucher-ß", "/p1"));
        return [.. events];
    }

    public static TheoryData<string, string> Zones => new()
    {
        { "Europe/Berlin", "day" },
        { "Europe/Berlin", "hour" },
        { "Asia/Kathmandu", "day" },   // +05:45: local midnight is 18:15 UTC
        { "Asia/Kolkata", "hour" },    // +05:30: local hours start at half past UTC hours
        { "America/St_Johns", "day" }, // -02:30 / -03:30
    };

    [Theory]
    [MemberData(nameof(Zones))]
    public async Task Unfiltered_figures_from_the_rollup_equal_the_raw_scan_in_any_zone_with_the_previous_period(string zone, string interval)
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var traffic = Traffic();
        await db.InsertAsync(traffic);
        await db.InsertAsync(traffic.Where(e => e.EventId is "e3" or "e230" or "e23").ToArray()); // a replayed batch, unmerged
        Assert.Equal(2UL, await db.RawRowCountAsync("e230"));

        var settings = db.Settings();
        settings["Sites:0:TimeZone"] = zone;
        await using var api = new QueryApiFactory(settings);
        var (from, to) = interval == "day" ? ("2026-05-03", "2026-05-05") : ("2026-05-02", "2026-05-03");
        var stats = await api.CreateClient().StatsAsync($"?from={from}&to={to}&interval={interval}&compare=previous");

        using var raw = new RawScan(stack, db.Name, zone);
        await raw.AssertSameAsync(stats, interval);
        Assert.True(stats.Visitors > 10 && stats.PageViews > 50, $"the range holds traffic ({stats.PageViews} views)");
    }

    [Theory]
    [InlineData("Asia/Kathmandu", "day")]
    [InlineData("Asia/Kolkata", "hour")]
    public async Task Settled_quarter_hours_answer_what_the_raw_scan_answers_and_a_late_event_or_replay_counts_at_once(string zone, string interval)
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var traffic = Traffic();
        await db.InsertAsync(traffic);
        Assert.True(await db.RollQuartersAsync() > 100, "the traffic's quarter hours are rolled up");
        Assert.Equal(0, await db.RollQuartersAsync()); // nothing written since: nothing due

        var settings = db.Settings();
        settings["Sites:0:TimeZone"] = zone;
        await using var api = new QueryApiFactory(settings);
        var client = api.CreateClient();
        var query = interval == "day" ? "?from=2026-05-01&to=2026-05-05&interval=day&compare=previous" : "?from=2026-05-02&to=2026-05-03&interval=hour&compare=previous";
        using var raw = new RawScan(stack, db.Name, zone);
        var settled = await client.StatsAsync(query);
        await raw.AssertSameAsync(settled, interval);

        // Into settled quarter hours: a replayed copy (unmerged) and a late event of a new visitor on a new path. Both count
        // in the next answer, before any roll-up, and still after it.
        var inRange = traffic.Where(e => e.Timestamp >= settled.From.UtcDateTime && e.Timestamp < settled.To.UtcDateTime && e.Type == "pageview").ToArray();
        await db.InsertAsync(inRange[5], inRange[40]);
        await db.InsertAsync(new TestEvent("late", TestSites.Shop, inRange[40].Timestamp.AddSeconds(1), "late-visitor", "/late", ReferrerHost: "late.example"));
        var touched = await client.StatsAsync(query);
        await raw.AssertSameAsync(touched, interval);
        Assert.Equal(settled.PageViews + 1, touched.PageViews);
        Assert.Contains(touched.TopPages, p => p.Path == "/late");

        var written = new[] { inRange[5].Timestamp, inRange[40].Timestamp, inRange[40].Timestamp.AddSeconds(1) }.Select(Quarter).Distinct().Count();
        Assert.Equal(written, await db.RollQuartersAsync()); // the quarter hours written into, and no other
        await raw.AssertSameAsync(await client.StatsAsync(query), interval);
    }

    [Fact]
    public async Task A_long_range_the_roll_up_has_not_settled_is_read_raw_whole_and_agrees()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await db.InsertAsync(Traffic());
        await using var api = db.StartApi();
        // Twenty days, none rolled up: the traffic's ~550 quarter hours with page views are unsettled, more than one statement
        // carries as a list (480), so the whole range is read raw.
        var stats = await api.CreateClient().StatsAsync("?from=2026-04-20&to=2026-05-10&compare=previous");
        using var raw = new RawScan(stack, db.Name, "Europe/Berlin");
        await raw.AssertSameAsync(stats, "day");
        Assert.True(stats.PageViews > 500, $"the range holds the traffic ({stats.PageViews} views)");
    }

    [Fact]
    public async Task Erasing_a_visitor_removes_them_from_settled_quarter_hours_and_their_rows_until_rolled_again()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var traffic = Traffic();
        await db.InsertAsync(traffic);
        await db.RollQuartersAsync();
        await using var api = db.StartApi();
        var http = api.CreateClient();
        const string query = "?from=2026-05-01&to=2026-05-06&compare=previous";
        var before = await http.StatsAsync(query);
        var quarters = traffic.Where(e => e.Visitor == "v7").Select(e => Quarter(e.Timestamp)).Distinct().ToArray();
        Assert.NotEqual(0UL, await db.QuarterRowsAsync(quarters));

        using (var erase = await http.PostAsync("/v1/sites/shop/subjects/erase", """{"anonymousId":"v7"}""", bearer: TestSites.ShopServer))
        {
            Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        }

        // The rows of the quarter hours v7 was in are gone, not merely superseded: their visitor sets held v7's hash.
        Assert.Equal(0UL, await db.QuarterRowsAsync(quarters));
        using var raw = new RawScan(stack, db.Name, "Europe/Berlin");
        var after = await http.StatsAsync(query);
        await raw.AssertSameAsync(after, "day");
        Assert.Equal(before.Visitors - 1, after.Visitors);

        Assert.Equal(quarters.Length, await db.RollQuartersAsync()); // due again, and rolled up without v7
        Assert.NotEqual(0UL, await db.QuarterRowsAsync(quarters));
        await raw.AssertSameAsync(await http.StatsAsync(query), "day");
    }

    [Theory]
    [InlineData("/p1")]
    [InlineData("/p4")]
    public async Task A_page_filter_reads_the_events_and_agrees_with_the_raw_scan(string page)
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var traffic = Traffic();
        await db.InsertAsync(traffic);
        await db.InsertAsync(traffic.Where(e => e.Path == page).Take(3).ToArray()); // replayed, unmerged

        await using var api = db.StartApi();
        var stats = await api.CreateClient().StatsAsync($"?from=2026-05-01&to=2026-05-05&page={Uri.EscapeDataString(page)}&compare=previous");

        using var raw = new RawScan(stack, db.Name, "Europe/Berlin");
        await raw.AssertSameAsync(stats.From, stats.To, "day", page, stats.Totals, stats.Series, stats.TopPages);
        Assert.Equal([page], stats.TopPages.Select(p => p.Path));
    }

    [Fact]
    public async Task Top_pages_keep_the_raw_order_and_visitors_when_the_limit_cuts_ties()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var traffic = Traffic();
        await db.InsertAsync(traffic);

        await using var api = db.StartApi();
        var client = api.CreateClient();
        foreach (var limit in new[] { 1, 2, 3, 7 })
        {
            var stats = await client.StatsAsync($"?from=2026-05-01&to=2026-05-06&limit={limit}");
            using var raw = new RawScan(stack, db.Name, "Europe/Berlin");
            Assert.Equal(await raw.TopPagesAsync(stats.From, stats.To, "", limit), stats.TopPages);
        }
    }

    private static DateTime Quarter(DateTime at) => new(at.Ticks - at.Ticks % TimeSpan.FromMinutes(15).Ticks, DateTimeKind.Utc);

    /// <summary>The figures as the events say, computed the slow way: FINAL and uniqExact over every page view.</summary>
    private sealed class RawScan(DevStackFixture stack, string database, string zone) : IDisposable
    {
        private const string Where = """
            FROM events FINAL
            WHERE site_id = 'shop' AND type = 'pageview' AND bot_reason = ''
              AND timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
              AND ({page:String} = '' OR path = {page:String})
            """;

        private readonly ClickHouseClient client = new(stack.ConnectionString(database));

        /// <summary>An unfiltered answer: the range's figures, series, top pages and referrers, and the previous period's.</summary>
        public async Task AssertSameAsync(StatsResponse stats, string interval)
        {
            await AssertSameAsync(stats.From, stats.To, interval, "", stats.Totals, stats.Series, stats.TopPages);
            Assert.Equal(await TopReferrersAsync(stats.From, stats.To), stats.TopReferrers);
            Assert.NotNull(stats.Comparison);
            await AssertSameAsync(stats.Comparison.From, stats.Comparison.To, interval, "", stats.Comparison.Totals, stats.Comparison.Series, null);
        }

        private async Task<List<ReferrerStats>> TopReferrersAsync(DateTimeOffset from, DateTimeOffset to)
        {
            var rows = await RowsAsync("""
                SELECT replaceRegexpOne(lower(referrer_host), '^www\\.', '') AS host, count() AS views, uniqExact(cityHash64(anonymous_id))
                """ + Where + """

                  AND host NOT IN ('', 'shop.example')
                GROUP BY host
                ORDER BY views DESC, host
                LIMIT 10
                """, from, to, "", r => r.GetString(0));
            return [.. rows.Select(r => new ReferrerStats(r.Key, r.Views, r.Visitors))];
        }

        public async Task AssertSameAsync(DateTimeOffset from, DateTimeOffset to, string interval, string page, StatsTotals totals,
            IReadOnlyList<SeriesPoint> series, IReadOnlyList<PageStats>? pages)
        {
            var expected = await RowsAsync("SELECT 0, count(), uniqExact(cityHash64(anonymous_id)) " + Where, from, to, page);
            Assert.Equal((expected[0].Views, expected[0].Visitors), (totals.PageViews, totals.Visitors));

            var bucket = interval == "day" ? "toStartOfDay(timestamp, {tz:String})" : "toStartOfHour(timestamp, {tz:String})";
            var buckets = (await RowsAsync($"SELECT toUnixTimestamp({bucket}) AS b, count(), uniqExact(cityHash64(anonymous_id)) {Where} GROUP BY b",
                from, to, page)).ToDictionary(r => r.Key, r => (r.Views, r.Visitors));
            foreach (var point in series)
            {
                Assert.Equal(buckets.GetValueOrDefault(point.Start.ToUnixTimeSeconds()), (point.Views, point.Visitors));
            }

            Assert.Equal(buckets.Values.Sum(b => b.Views), series.Sum(p => p.Views));
            if (pages is not null)
            {
                Assert.Equal(await TopPagesAsync(from, to, page, 10), pages);
            }
        }

        public async Task<List<PageStats>> TopPagesAsync(DateTimeOffset from, DateTimeOffset to, string page, int limit)
        {
            var rows = new List<PageStats>();
            var parameters = Parameters(from, to, page);
            parameters.AddParameter("limit", (uint)limit);
            using var reader = await client.ExecuteReaderAsync(
                "SELECT path, count() AS views, uniqExact(cityHash64(anonymous_id)) " + Where + " GROUP BY path ORDER BY views DESC, path LIMIT {limit:UInt32}",
                parameters, cancellationToken: TestContext.Current.CancellationToken);
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                rows.Add(new PageStats(reader.GetString(0), Long(reader.GetValue(1)), Long(reader.GetValue(2))));
            }

            return rows;
        }

        private Task<List<(long Key, long Views, long Visitors)>> RowsAsync(string sql, DateTimeOffset from, DateTimeOffset to, string page) =>
            RowsAsync(sql, from, to, page, r => Long(r.GetValue(0)));

        private async Task<List<(TKey Key, long Views, long Visitors)>> RowsAsync<TKey>(string sql, DateTimeOffset from, DateTimeOffset to, string page,
            Func<System.Data.Common.DbDataReader, TKey> key)
        {
            var rows = new List<(TKey, long, long)>();
            using var reader = await client.ExecuteReaderAsync(sql, Parameters(from, to, page), cancellationToken: TestContext.Current.CancellationToken);
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                rows.Add((key(reader), Long(reader.GetValue(1)), Long(reader.GetValue(2))));
            }

            return rows;
        }

        private ClickHouseParameterCollection Parameters(DateTimeOffset from, DateTimeOffset to, string page)
        {
            var parameters = new ClickHouseParameterCollection();
            parameters.AddParameter("from", from.UtcDateTime);
            parameters.AddParameter("to", to.UtcDateTime);
            parameters.AddParameter("tz", zone);
            parameters.AddParameter("page", page);
            return parameters;
        }

        private static long Long(object value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);

        public void Dispose() => client.Dispose();
    }
}
