using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Insights.LoadGenerator;

/// <summary>
/// Gentle, lifelike traffic for a newcomer's first look: visitors arrive, read a few pages over a few
/// minutes, some come from campaigns, some fire custom events, some chat with an agent and some buy, then
/// leave. Every 10 s it prints what the query API counts (page views, visitors, goal completions, orders and
/// revenue), so numbers visibly move.
/// </summary>
/// <remarks>
/// Each event goes in with the key its real sender would hold: page views and custom events with the public write
/// key (the tracker's), chats and orders with the server key (the chat platform's and the shop's servers). Keys
/// travel in headers only, never in the URL.
/// </remarks>
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

    private static readonly string[] Agents = ["anna@shop.example", "ben@shop.example"];

    public async Task<int> RunAsync(CancellationToken cancellation)
    {
        using var browser = Client(options.Ingest, options.Key);
        using var server = Client(options.Ingest, options.ServerKey);
        using var query = options.Query is null ? null : new HttpClient { BaseAddress = options.Query, Timeout = TimeSpan.FromSeconds(10) };
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
                    Referrers[random.Next(Referrers.Length)], random.Next(6) == 0, chats: random.Next(3) == 0, buys: random.Next(5) == 0));
            }

            var fromBrowsers = new EventBatch();
            var fromServers = new EventBatch();
            foreach (var visitor in visitors.Where(v => v.NextAt <= DateTimeOffset.UtcNow).ToList())
            {
                visitor.Step(random, fromBrowsers, fromServers);
                if (visitor.Done)
                {
                    visitors.Remove(visitor);
                }
            }

            sent += await SendAsync(browser, fromBrowsers, cancellation) + await SendAsync(server, fromServers, cancellation);
            if (DateTimeOffset.UtcNow >= nextReport)
            {
                nextReport = DateTimeOffset.UtcNow.AddSeconds(10);
                Console.WriteLine($"demo: {sent:N0} events sent, {visitors.Count} visitors on the site; {await TodayAsync(query, cancellation)}");
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

    /// <summary>Sends the batch; returns how many of its events ingest accepted.</summary>
    private static async Task<int> SendAsync(HttpClient ingest, EventBatch batch, CancellationToken cancellation)
    {
        if (batch.Count == 0)
        {
            return 0;
        }

        try
        {
            using var response = await ingest.PostAsync(new Uri("/v1/events", UriKind.Relative),
                new StringContent(batch.ToJson(), Encoding.UTF8, "application/json"), cancellation);
            var body = await response.Content.ReadAsStringAsync(cancellation);
            if (!response.IsSuccessStatusCode)
            {
                Console.WriteLine($"demo: ingest answered {(int)response.StatusCode}: {body}");
                return 0;
            }

            using var answer = JsonDocument.Parse(body);
            return answer.RootElement.GetProperty("accepted").GetInt32();
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException)
        {
            Console.WriteLine($"demo: ingest unreachable ({e.Message}); retrying");
            return 0;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return 0;
        }
    }

    /// <summary>What the query API counts over the last 24 hours, as one line: the reports a site owner would open.</summary>
    private async Task<string> TodayAsync(HttpClient? query, CancellationToken cancellation)
    {
        if (query is null)
        {
            return "";
        }

        var range = $"from={DateTimeOffset.UtcNow.AddDays(-1):yyyy-MM-ddTHH:mm:ssZ}&to={DateTimeOffset.UtcNow.AddHours(1):yyyy-MM-ddTHH:mm:ssZ}";
        try
        {
            using var stats = await GetAsync(query, $"stats?{range}", cancellation);
            using var goals = await GetAsync(query, $"goals?{range}", cancellation);
            using var sales = await GetAsync(query, $"sales?{range}", cancellation);
            var completions = string.Join(", ", goals.RootElement.GetProperty("goals").EnumerateArray()
                .Select(g => $"{g.GetProperty("id").GetString()} {g.GetProperty("completions").GetInt64():N0}"));
            var currency = sales.RootElement.GetProperty("currency").GetString();
            return string.Create(CultureInfo.InvariantCulture,
                $"query API, last 24 h: {stats.RootElement.GetProperty("pageViews").GetInt64():N0} page views, " +
                $"{stats.RootElement.GetProperty("visitors").GetInt64():N0} visitors; goals completed: {completions}; " +
                $"orders {sales.RootElement.GetProperty("orders").GetInt64():N0}, revenue {sales.RootElement.GetProperty("revenue").GetDecimal():N2} {currency} " +
                $"({sales.RootElement.GetProperty("chatAttributedRevenue").GetDecimal():N2} {currency} after a chat)");
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return "stopping";
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or TaskCanceledException)
        {
            return $"query API not answering yet ({e.Message})";
        }
    }

    private async Task<JsonDocument> GetAsync(HttpClient query, string report, CancellationToken cancellation) =>
        JsonDocument.Parse(await query.GetStringAsync(new Uri($"/v1/sites/{options.Site}/{report}", UriKind.Relative), cancellation));

    private static HttpClient Client(Uri ingest, string key)
    {
        var client = new HttpClient { BaseAddress = ingest, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Insights-Key", key);
        return client;
    }

    /// <summary>A JSON array of events, built as text.</summary>
    private sealed class EventBatch
    {
        private readonly StringBuilder json = new("[");

        public int Count { get; private set; }

        public void Add(string @event)
        {
            json.Append(Count++ == 0 ? "" : ",").Append(@event);
        }

        public string ToJson() => json.ToString() + "]";
    }

    /// <summary>
    /// One visitor's walk through a journey. A visitor who chats starts the chat on the first pricing or contact page;
    /// one who buys orders at the end of the journey (a chatter's order then follows their chat, as attribution needs).
    /// </summary>
    private sealed class Visitor(string id, string[] journey, string referrer, bool fromCampaign, bool chats, bool buys)
    {
        private int step;
        private bool chatted;

        public DateTimeOffset NextAt { get; private set; } = DateTimeOffset.UtcNow;

        public bool Done => step >= journey.Length;

        public void Step(Random random, EventBatch fromBrowser, EventBatch fromServer)
        {
            var path = journey[step];
            var first = step == 0;
            step++;
            NextAt = DateTimeOffset.UtcNow.AddSeconds(random.Next(3, 25));
            var campaign = first && fromCampaign ? "?utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale" : "";
            fromBrowser.Add($$$"""
                {"type":"pageview","messageId":"{{{id}}}-{{{step}}}","anonymousId":"{{{id}}}","context":{"page":{"url":"https://shop.example{{{path}}}{{{campaign}}}","path":"{{{path}}}",
                "title":"Demo shop {{{path}}}","referrer":"{{{(first ? referrer : "https://shop.example/")}}}"},
                "userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15","locale":"en-GB"}}
                """);
            if (path == "/pricing" && random.Next(3) == 0)
            {
                fromBrowser.Add($$$"""{"type":"track","anonymousId":"{{{id}}}","event":"pricing_plan_viewed","properties":{"plan":"pro"}}""");
            }

            if (path is "/contact" or "/docs/install" && random.Next(2) == 0)
            {
                fromBrowser.Add($$$"""{"type":"track","messageId":"{{{id}}}-signup","anonymousId":"{{{id}}}","event":"signup","properties":{"plan":"trial"}}""");
            }

            if (chats && !chatted && path is "/pricing" or "/contact")
            {
                chatted = true;
                fromServer.Add($$$"""
                    {"type":"chat_started","messageId":"{{{id}}}-chat","anonymousId":"{{{id}}}","chatId":"chat-{{{id}}}","agentId":"{{{Agents[random.Next(Agents.Length)]}}}","channel":"website"}
                    """);
            }

            if (buys && Done)
            {
                var total = (random.Next(29, 500) + 0.99m).ToString(CultureInfo.InvariantCulture);
                fromServer.Add($$$"""
                    {"type":"order","messageId":"{{{id}}}-order","anonymousId":"{{{id}}}","orderId":"order-{{{id}}}","total":{{{total}}},"currency":"{{{(random.Next(4) == 0 ? "EUR" : "USD")}}}"}
                    """);
            }
        }
    }
}
