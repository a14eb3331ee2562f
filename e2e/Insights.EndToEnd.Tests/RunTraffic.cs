using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// Page views sent to a <c>scripts/run.sh</c> system the way a site's server would, and counted back through its query
/// API: what the run tests that measure a whole system's throughput share.
/// </summary>
internal static class RunTraffic
{
    public const int BatchEvents = 100;

    /// <summary>What ingest answered one batch: its status, the problem when refused, Retry-After, and how many it took.</summary>
    public readonly record struct Answer(HttpStatusCode Status, JsonElement Problem, TimeSpan? RetryAfter, int Accepted);

    /// <summary>
    /// One batch of <see cref="BatchEvents"/> page views of <paramref name="path"/> with <paramref name="key"/>, their
    /// ids <c>{run}-{batch}-{i}</c> and visitors cycling through <paramref name="visitors"/>.
    /// </summary>
    public static async Task<Answer> SendAsync(HttpClient ingest, string key, string path, string run, int batch, int visitors,
        CancellationToken cancellationToken)
    {
        var events = Enumerable.Range(0, BatchEvents).Select(i => JsonSerializer.Serialize(new
        {
            type = "pageview",
            messageId = $"{run}-{batch}-{i}",
            anonymousId = $"{run}-{((batch * BatchEvents) + i) % visitors}",
            context = new { page = new { url = $"https://shop.example{path}", path } },
        }));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/events", UriKind.Relative))
        {
            Content = new StringContent($"[{string.Join(',', events)}]", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Insights-Key", key);
        using var response = await ingest.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return response.StatusCode == HttpStatusCode.Accepted
            ? new Answer(response.StatusCode, default, null, body.GetProperty("accepted").GetInt32())
            : new Answer(response.StatusCode, body, response.Headers.RetryAfter?.Delta, 0);
    }

    /// <summary>
    /// Polls the query API until the page has at least <paramref name="expected"/> views, then once more a little later
    /// (a doubled batch would land within a batch interval or two); returns that page's views and visitors.
    /// </summary>
    public static async Task<(long Views, long Visitors)> WaitForPageAsync(Uri query, string path, long expected, Func<string> context,
        CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = query, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SystemFixture.ReadKey);
        async Task<(long Views, long Visitors)> Page()
        {
            var from = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            var to = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            var stats = await http.GetFromJsonAsync<JsonElement>(
                new Uri($"/v1/sites/{SystemFixture.Site}/stats?from={from}&to={to}&page={Uri.EscapeDataString(path)}&include=totals", UriKind.Relative),
                cancellationToken);
            return (stats.GetProperty("pageViews").GetInt64(), stats.GetProperty("visitors").GetInt64());
        }

        var clock = Stopwatch.StartNew();
        while ((await Page()).Views < expected)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(180), $"{path}: fewer than {expected} views after 180 s:\n{context()}");
            await Task.Delay(500, cancellationToken);
        }

        await Task.Delay(2000, cancellationToken);
        return await Page();
    }
}
