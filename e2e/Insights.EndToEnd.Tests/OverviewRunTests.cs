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
