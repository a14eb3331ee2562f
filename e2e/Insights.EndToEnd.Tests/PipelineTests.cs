using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Insights.EndToEnd.Tests;

/// <summary>Events sent over HTTP become numbers the query API reports: exactly once, with every refusal explained.</summary>
public sealed partial class PipelineTests(SystemFixture system) : IDisposable
{
    private readonly HttpClient ingest = Client(system.Ingest.Address, SystemFixture.WriteKey);
    private readonly HttpClient query = Client(system.QueryApi.Address, SystemFixture.ReadKey);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Page_views_sent_to_ingest_are_counted_once_by_the_query_api()
    {
        var path = $"/e2e/{Guid.NewGuid():N}";
        var events = Enumerable.Range(0, 30).Select(i => PageView(path, $"v{i % 7}", $"{path}-{i}")).ToArray();

        await Send(events);
        await Send(events[..10]); // a client retry: the same messageIds again

        var page = await WaitForPage(path, expectedViews: 30);
        Assert.Equal(30, page.GetProperty("views").GetInt64());
        Assert.Equal(7, page.GetProperty("visitors").GetInt64());
    }

    [Fact]
    public async Task A_mixed_batch_accepts_the_valid_events_and_names_each_refusal()
    {
        var path = $"/e2e/{Guid.NewGuid():N}";
        var missingVisitor = JsonSerializer.Serialize(new { type = "pageview", context = new { page = new { url = $"https://shop.example{path}" } } });
        var unknownType = JsonSerializer.Serialize(new { type = "no_such_type", anonymousId = "b" });
        var body = $"[{PageView(path, "a", $"{path}-1")},{missingVisitor},{unknownType},{PageView(path, "b", $"{path}-2")}]";

        using var response = await ingest.PostAsync(new Uri("/v1/events", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), Ct);
        using var result = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(2, result.RootElement.GetProperty("accepted").GetInt32());
        var rejected = result.RootElement.GetProperty("rejected").EnumerateArray().Select(r => (r.GetProperty("index").GetInt32(), r.GetProperty("reason").GetString())).ToArray();
        Assert.Equal([1, 2], rejected.Select(r => r.Item1));
        Assert.All(rejected, r => Assert.False(string.IsNullOrEmpty(r.Item2)));
        Assert.Equal(2, (await WaitForPage(path, expectedViews: 2)).GetProperty("views").GetInt64());
    }

    [Fact]
    public async Task Hostile_strings_are_stored_and_reported_as_data()
    {
        // Characters a URL path carries unescaped, so the report shows them exactly as sent.
        var path = $"/e2e/{Guid.NewGuid():N}/';DROP_TABLE_events;--";
        var escapedUrl = path;
        var body = JsonSerializer.Serialize(new
        {
            type = "pageview",
            anonymousId = "x'; SELECT 1 --",
            messageId = Guid.NewGuid().ToString(),
            context = new { page = new { url = $"https://shop.example{escapedUrl}", path, title = "<script>alert(1)</script> \u0000 {x:String}" } },
        });
        using var response = await ingest.PostAsync(new Uri("/v1/events", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var page = await WaitForPage(path, expectedViews: 1);

        Assert.Equal(path, page.GetProperty("path").GetString());
        Assert.True((await Stats()).GetProperty("pageViews").GetInt64() >= 1, "the events table is still there");
    }

    [Fact]
    public async Task A_write_key_cannot_read_and_an_unknown_key_is_refused()
    {
        using var writer = Client(system.QueryApi.Address, SystemFixture.WriteKey);
        using var stranger = Client(system.QueryApi.Address, "not-a-key-at-all");

        using var forbidden = await writer.GetAsync(new Uri($"/v1/sites/{SystemFixture.Site}/stats", UriKind.Relative), Ct);
        using var unauthorized = await stranger.GetAsync(new Uri($"/v1/sites/{SystemFixture.Site}/stats", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Every_metric_the_pipeline_dashboard_charts_is_exported_by_the_services()
    {
        // Traffic that exercises every counter: accepted and rejected events, and a poison message for the DLQ.
        await Send([PageView($"/e2e/{Guid.NewGuid():N}", "m", Guid.NewGuid().ToString())]);
        using (await ingest.PostAsync(new Uri("/v1/events", UriKind.Relative), new StringContent("""[{"type":"pageview"}]""", Encoding.UTF8, "application/json"), Ct))
        {
        }

        await system.ProduceRawAsync("demo:poison", "not an event"u8.ToArray());
        await Stats(); // a report answered, so the query API's latency histogram has a series
        var dashboard = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "dashboards", "insights-pipeline.json"), Ct);
        var wanted = MetricName().Matches(dashboard).Select(m => m.Value).Distinct().ToArray();
        Assert.NotEmpty(wanted);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        string[] missing;
        do
        {
            var exported = new StringBuilder();
            foreach (var service in new[] { system.Ingest, system.Processors, system.QueryApi })
            {
                using var http = new HttpClient { BaseAddress = service.Address };
                exported.Append(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct));
            }

            var text = exported.ToString();
            missing = wanted.Where(name => !Regex.IsMatch(text, $"^{Regex.Escape(name)}[{{ ]", RegexOptions.Multiline)).ToArray();
            if (missing.Length > 0)
            {
                await Task.Delay(500, Ct);
            }
        }
        while (missing.Length > 0 && DateTime.UtcNow < deadline);

        Assert.Empty(missing);
    }

    public void Dispose()
    {
        ingest.Dispose();
        query.Dispose();
    }

    private async Task Send(string[] events)
    {
        using var response = await ingest.PostAsync(new Uri("/v1/events", UriKind.Relative),
            new StringContent($"[{string.Join(',', events)}]", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>The demo site's report for the last and next day; with <paramref name="page"/>, filtered to that page.</summary>
    private async Task<JsonElement> Stats(string? page = null)
    {
        var from = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");
        var to = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-ddTHH:mm:ssZ");
        var filter = page is null ? "" : "&page=" + Uri.EscapeDataString(page);
        return await query.GetFromJsonAsync<JsonElement>(new Uri($"/v1/sites/{SystemFixture.Site}/stats?from={from}&to={to}&limit=100{filter}", UriKind.Relative), Ct);
    }

    /// <summary>Polls the report until the page shows the expected views (then a little longer, to catch a double count).</summary>
    private async Task<JsonElement> WaitForPage(string path, long expectedViews)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            // Filtered to the page: the whole site's top 100 holds every other test's pages too, and a path with one or two
            // views ranks among the ties by its random name, so it may never be listed.
            var page = (await Stats(path)).GetProperty("topPages").EnumerateArray().FirstOrDefault(p => p.GetProperty("path").GetString() == path);
            if (page.ValueKind != JsonValueKind.Undefined && page.GetProperty("views").GetInt64() >= expectedViews)
            {
                await Task.Delay(1500, Ct); // a duplicate would land within a batch interval
                return (await Stats(path)).GetProperty("topPages").EnumerateArray().First(p => p.GetProperty("path").GetString() == path);
            }

            Assert.True(DateTime.UtcNow < deadline, $"{path} was not counted within 60 s:\n{system.Processors.Output}");
            await Task.Delay(200, Ct);
        }
    }

    private static string PageView(string path, string visitor, string messageId) => JsonSerializer.Serialize(new
    {
        type = "pageview",
        messageId,
        anonymousId = visitor,
        context = new { page = new { url = $"https://shop.example{path}", path, title = "E2E" } },
    });

    private static HttpClient Client(Uri address, string key)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        client.DefaultRequestHeaders.Add("X-Insights-Key", key);
        return client;
    }

    [GeneratedRegex(@"insights_[a-z_]+")]
    private static partial Regex MetricName();
}
