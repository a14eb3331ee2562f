using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// The dashboard's overview from what a tracker sends, through the README's <c>scripts/run.sh</c>: page views posted to
/// ingest become visits (the processors' sessions) with their channel, bounce and duration, entry pages, a filter that
/// applies to every figure and the previous period, all from the query API's one stats endpoint.
/// </summary>
public sealed partial class OverviewRunTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Page_views_sent_to_ingest_become_the_overviews_visits_channels_and_filtered_figures()
    {
        await using var system = await RunningSystem.StartAsync("overview");
        var script = system.Script;
        var now = DateTimeOffset.UtcNow;

        // a: from Google, / then /pricing a minute later (60 s); b: a newsletter link, one page (a bounce); c: direct, one page.
        using (var ingest = Client(system.Ingest, SystemFixture.WriteKey))
        {
            var body = "[" + string.Join(",",
                PageView("a", "/", now.AddMinutes(-3), "https://www.google.com/"),
                PageView("a", "/pricing", now.AddMinutes(-2)),
                PageView("b", "/landing?utm_source=newsletter&utm_medium=email&utm_campaign=launch", now.AddMinutes(-2)),
                PageView("c", "/", now.AddMinutes(-1))) + "]";
            using var sent = await ingest.PostAsync(new Uri("/v1/events", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), Ct);
            var answer = await sent.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.True(answer.TryGetProperty("accepted", out var accepted) && accepted.GetInt32() == 4, $"{(int)sent.StatusCode}: {answer}");
        }

        using var query = Client(system.Query, SystemFixture.ReadKey);
        var range = $"from={Instant(now.AddHours(-1))}&to={Instant(now.AddHours(1))}";
        var stats = await WaitForAsync(query, $"/v1/sites/demo/stats?{range}&compare=previous", s => s.GetProperty("totals").GetProperty("visits").GetInt64() == 3
            && s.GetProperty("totals").GetProperty("pageViews").GetInt64() == 4, script);

        var totals = stats.GetProperty("totals");
        Assert.Equal((3L, 4L, 3L), (totals.GetProperty("visitors").GetInt64(), totals.GetProperty("pageViews").GetInt64(), totals.GetProperty("visits").GetInt64()));
        Assert.Equal((0.666667, 20.0, 1.333333), (totals.GetProperty("bounceRate").GetDouble(), totals.GetProperty("visitDurationSeconds").GetDouble(),
            totals.GetProperty("viewsPerVisit").GetDouble()));
        Assert.Equal(["direct:1", "email:1", "search:1"], Rows(stats, "channels"));
        Assert.Equal(["/:2", "/landing:1"], Rows(stats, "entryPages"));
        Assert.Equal(["launch:1"], Rows(stats, "utmCampaigns"));
        Assert.Equal(0, stats.GetProperty("comparison").GetProperty("totals").GetProperty("visits").GetInt64());

        // One filter, every panel: only the visit from search and its page views.
        var search = await WaitForAsync(query, $"/v1/sites/demo/stats?{range}&channel=search", _ => true, script);
        Assert.Equal((1L, 2L, 1L), (search.GetProperty("totals").GetProperty("visitors").GetInt64(),
            search.GetProperty("totals").GetProperty("pageViews").GetInt64(), search.GetProperty("totals").GetProperty("visits").GetInt64()));
        Assert.Equal(["/", "/pricing"], search.GetProperty("topPages").EnumerateArray().Select(p => p.GetProperty("path").GetString()).Order());
        Assert.Equal(["search:1"], Rows(search, "channels"));

        using var misspelt = await query.GetAsync(new Uri($"/v1/sites/demo/stats?{range}&chanel=search", UriKind.Relative), Ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, misspelt.StatusCode);
    }

    [Fact]
    public async Task Settled_quarter_hours_are_rolled_up_by_the_processors_and_a_late_page_view_into_one_is_counted()
    {
        // Settle after 6 s of quiet (inserts time out after 5), checked every second: the defaults are 60 s and 10 s.
        await using var system = await RunningSystem.StartAsync("settled", configure: (environment, _) =>
        {
            environment["Processors__StatsRollupSettleSeconds"] = "6";
            environment["Processors__InsertTimeoutSeconds"] = "5";
            environment["Processors__StatsRollupIntervalSeconds"] = "1";
        });
        var script = system.Script;
        var now = DateTimeOffset.UtcNow;
        using var ingest = Client(system.Ingest, SystemFixture.WriteKey);
        await SendAsync(ingest,
            PageView("s1", "/", now.AddMinutes(-50), "https://www.google.com/"),
            PageView("s1", "/pricing", now.AddMinutes(-49)),
            PageView("s2", "/", now.AddMinutes(-20), "https://news.example/"),
            PageView("s3", "/pricing", now.AddMinutes(-1)));

        // Whole quarter hours: the report reads the roll-up's rows for the settled ones.
        using var query = Client(system.Query, SystemFixture.ReadKey);
        var quarter = TimeSpan.FromMinutes(15).Ticks;
        var from = new DateTimeOffset(now.AddHours(-2).Ticks - now.Ticks % quarter, TimeSpan.Zero);
        var range = $"from={Instant(from)}&to={Instant(from.AddHours(4))}";
        var expected = new Func<JsonElement, long, bool>((s, views) => s.GetProperty("pageViews").GetInt64() == views);
        await WaitForAsync(query, $"/v1/sites/demo/stats?{range}", s => expected(s, 4), script);
        var rolled = await WaitForRolledAsync(system, 1, script); // the three quarter hours, once quiet

        var settled = await WaitForAsync(query, $"/v1/sites/demo/stats?{range}", _ => true, script);
        Assert.Equal((4L, 3L), (settled.GetProperty("pageViews").GetInt64(), settled.GetProperty("visitors").GetInt64()));
        Assert.Equal(["/:2", "/pricing:2"], Pages(settled));
        Assert.Equal(["google.com:1", "news.example:1"], settled.GetProperty("topReferrers").EnumerateArray()
            .Select(r => $"{r.GetProperty("referrerHost").GetString()}:{r.GetProperty("visits").GetInt64()}").Order());

        // A late page view into a settled quarter hour (a phone back online): counted, and again once its quarter hour is
        // rolled up anew. (That it counts before the new roll-up is StatsRollupTests' to show: here a poll may come after it.)
        await SendAsync(ingest, PageView("s4", "/late", now.AddMinutes(-49), "https://news.example/"));
        var late = await WaitForAsync(query, $"/v1/sites/demo/stats?{range}", s => expected(s, 5), script);
        Assert.Contains("/late:1", Pages(late));
        await WaitForRolledAsync(system, rolled + 1, script);
        var again = await WaitForAsync(query, $"/v1/sites/demo/stats?{range}", _ => true, script);
        Assert.Equal((5L, 4L), (again.GetProperty("pageViews").GetInt64(), again.GetProperty("visitors").GetInt64()));
        Assert.Equal(Pages(late), Pages(again));
    }

    private static string[] Pages(JsonElement stats) =>
        [.. stats.GetProperty("topPages").EnumerateArray().Select(p => $"{p.GetProperty("path").GetString()}:{p.GetProperty("views").GetInt64()}").Order()];

    private static async Task SendAsync(HttpClient ingest, params string[] pageViews)
    {
        using var sent = await ingest.PostAsync(new Uri("/v1/events", UriKind.Relative),
            new StringContent("[" + string.Join(",", pageViews) + "]", Encoding.UTF8, "application/json"), Ct);
        var answer = await sent.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(answer.TryGetProperty("accepted", out var accepted) && accepted.GetInt32() == pageViews.Length, $"{(int)sent.StatusCode}: {answer}");
    }

    /// <summary>Waits until the processors' metrics say at least <paramref name="atLeast"/> quarter hours were rolled up.</summary>
    private static async Task<long> WaitForRolledAsync(RunningSystem system, long atLeast, TestProcess script)
    {
        using var http = new HttpClient { BaseAddress = system.Processors };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        long rolled = 0;
        while (DateTime.UtcNow < deadline)
        {
            var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);
            var match = RolledMetric().Match(metrics);
            rolled = match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            if (rolled >= atLeast)
            {
                return rolled;
            }

            await Task.Delay(500, Ct);
        }

        Assert.Fail($"the processors rolled up {rolled} quarter hours in 90 s, not {atLeast}\n{script.Output}");
        return rolled;
    }

    [GeneratedRegex(@"^insights_processors_stats_quarters_rolled_total\{[^}]*\} (\d+)", RegexOptions.Multiline)]
    private static partial Regex RolledMetric();

    private static IEnumerable<string> Rows(JsonElement stats, string list) =>
        stats.GetProperty(list).EnumerateArray().Select(r => $"{r.GetProperty("value").GetString()}:{r.GetProperty("visits").GetInt64()}");

    private static async Task<JsonElement> WaitForAsync(HttpClient query, string url, Func<JsonElement, bool> done, TestProcess script)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await query.GetAsync(new Uri(url, UriKind.Relative), Ct);
            last = await response.Content.ReadAsStringAsync(Ct);
            if (response.IsSuccessStatusCode && JsonSerializer.Deserialize<JsonElement>(last) is var report && done(report))
            {
                return report;
            }

            await Task.Delay(1000, Ct);
        }

        Assert.Fail($"{url} did not report the events within 90 s: {last}\n{script.Output}");
        return default;
    }

    private static string PageView(string visitor, string pathAndQuery, DateTimeOffset at, string? referrer = null) => JsonSerializer.Serialize(new
    {
        type = "pageview",
        messageId = Guid.NewGuid().ToString(),
        anonymousId = $"overview-{visitor}",
        timestamp = at.ToString("O", CultureInfo.InvariantCulture),
        context = new { page = new { url = $"https://shop.example{pathAndQuery}", path = pathAndQuery.Split('?')[0], title = "Overview", referrer } },
    });

    private static string Instant(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));

    private static HttpClient Client(Uri address, string key)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        client.DefaultRequestHeaders.Add("X-Insights-Key", key); // ingest reads this header; the query API either
        return client;
    }
}
