using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Insights.LoadGenerator;

/// <summary>
/// Gentle, lifelike traffic for a newcomer's first look: visitors arrive, read a few pages over a few
/// minutes, some come from campaigns, some fire custom events, then leave. Every 10 s it prints what the
/// query API counts, so numbers visibly move.
/// </summary>
public sealed class DemoTraffic(LoadOptions options)
{
    private static readonly string[][] Journeys =
    [
        ["/", "/products", "/products/chat-widget", "/pricing", "/checkout"],
        ["/blog/proactive-chat", "/products/chat-widget", "/pricing"],
        ["/", "/about", "/careers"],
        ["/pricing", "/contact"],
        ["/docs", "/docs/install"],
        ["/", "/products/analytics", "/pricing", "/contact"],
    ];

    private static readonly string[] Referrers = ["", "https://www.google.com/", "https://www.linkedin.com/feed/", "https://twitter.com/"];

    public async Task<int> RunAsync(CancellationToken cancellation)
    {
        using var ingest = new HttpClient { BaseAddress = options.Ingest };
        ingest.DefaultRequestHeaders.Add("X-Insights-Key", options.Key);
        using var query = options.Query is null ? null : new HttpClient { BaseAddress = options.Query };
        query?.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ReadKey);

        var random = new Random();
        var visitors = new List<Visitor>();
        long sent = 0;
        var nextReport = DateTimeOffset.UtcNow;
        Console.WriteLine($"demo: sending lifelike traffic to site '{options.Site}' at {options.Ingest}; Ctrl-C stops");
        while (!cancellation.IsCancellationRequested)
        {
            if (visitors.Count < 40 && random.Next(3) == 0)
            {
                visitors.Add(new Visitor($"demo-{Guid.NewGuid():N}"[..17], Journeys[random.Next(Journeys.Length)],
                    Referrers[random.Next(Referrers.Length)], random.Next(6) == 0));
            }

            var batch = new StringBuilder("[");
            var count = 0;
            foreach (var visitor in visitors.Where(v => v.NextAt <= DateTimeOffset.UtcNow).ToList())
            {
                batch.Append(count++ == 0 ? "" : ",").Append(visitor.NextEvent(random));
                if (visitor.Done)
                {
                    visitors.Remove(visitor);
                }
            }

            if (count > 0)
            {
                try
                {
                    using var response = await ingest.PostAsync(new Uri("/v1/events", UriKind.Relative),
                        new StringContent(batch.Append(']').ToString(), Encoding.UTF8, "application/json"), cancellation);
                    sent += response.IsSuccessStatusCode ? count : 0;
                }
                catch (HttpRequestException e)
                {
                    Console.WriteLine($"demo: ingest unreachable ({e.Message}); retrying");
                }
            }

            if (DateTimeOffset.UtcNow >= nextReport)
            {
                nextReport = DateTimeOffset.UtcNow.AddSeconds(10);
                Console.WriteLine($"demo: {sent:N0} events sent, {visitors.Count} visitors on the site{await TodayAsync(query, cancellation)}");
            }

            try
            {
                await Task.Delay(250, cancellation);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return 0;
    }

    private async Task<string> TodayAsync(HttpClient? query, CancellationToken cancellation)
    {
        if (query is null)
        {
            return "";
        }

        try
        {
            var from = DateTimeOffset.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");
            var to = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ");
            using var document = JsonDocument.Parse(await query.GetStringAsync(
                new Uri($"/v1/sites/{options.Site}/stats?from={from}&to={to}", UriKind.Relative), cancellation));
            var root = document.RootElement;
            return $"; query API, last 24 h: {root.GetProperty("pageViews").GetInt64():N0} page views, " +
                   $"{root.GetProperty("uniqueVisitors").GetInt64():N0} visitors";
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException)
        {
            return $"; query API not answering yet ({e.Message})";
        }
    }

    private sealed class Visitor(string id, string[] journey, string referrer, bool fromCampaign)
    {
        private int step;

        public DateTimeOffset NextAt { get; private set; } = DateTimeOffset.UtcNow;

        public bool Done => step >= journey.Length;

        public string NextEvent(Random random)
        {
            var path = journey[step];
            var first = step == 0;
            step++;
            NextAt = DateTimeOffset.UtcNow.AddSeconds(random.Next(3, 25));
            var campaign = first && fromCampaign ? "?utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale" : "";
            var pageview = $$$"""
                {"type":"pageview","anonymousId":"{{{id}}}","context":{"page":{"url":"https://shop.example{{{path}}}{{{campaign}}}","path":"{{{path}}}",
                "title":"Demo shop {{{path}}}","referrer":"{{{(first ? referrer : "https://shop.example/")}}}"},
                "userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15","locale":"en-GB"}}
                """;
            return path == "/pricing" && random.Next(3) == 0
                ? pageview + $$$""",{"type":"track","anonymousId":"{{{id}}}","event":"pricing_plan_viewed","properties":{"plan":"pro"}}"""
                : pageview;
        }
    }
}
