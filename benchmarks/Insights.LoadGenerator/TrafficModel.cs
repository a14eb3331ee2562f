using System.Text;

namespace Insights.LoadGenerator;

/// <summary>
/// Realistic-looking traffic for a shop: visitors with several page views each, a mix of referrers,
/// campaigns and browsers, and a few custom events. Batches are built as UTF-8 JSON directly: the
/// generator must stay cheap so it measures the target, not itself.
/// </summary>
public sealed class TrafficModel(string runId)
{
    private static readonly string[] Paths =
    [
        "/", "/pricing", "/contact", "/products", "/products/chat-widget", "/products/analytics", "/blog",
        "/blog/proactive-chat", "/blog/chat-revenue", "/cart", "/checkout", "/about", "/careers", "/docs", "/docs/install",
    ];

    private static readonly string[] Referrers =
    [
        "", "", "", "https://www.google.com/", "https://www.bing.com/", "https://twitter.com/", "https://www.linkedin.com/feed/",
        "https://news.ycombinator.com/", "https://partner-agency.example/clients",
    ];

    private static readonly string[] UserAgents =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    ];

    private long sequence;

    /// <summary>One batch: returns the JSON body and how many of its events are page views.</summary>
    public (byte[] Body, int PageViews) NextBatch(int size, Random random)
    {
        var json = new StringBuilder(size * 420);
        var pageViews = 0;
        json.Append('[');
        for (var i = 0; i < size; i++)
        {
            var n = Interlocked.Increment(ref sequence);
            var visitor = random.Next(1, 20_000);
            var isTrack = random.Next(10) == 0;
            pageViews += isTrack ? 0 : 1;
            var path = Paths[random.Next(Paths.Length)];
            if (i > 0)
            {
                json.Append(',');
            }

            json.Append("{\"type\":\"").Append(isTrack ? "track" : "pageview").Append('"')
                .Append(",\"messageId\":\"").Append(runId).Append('-').Append(n).Append('"')
                .Append(",\"anonymousId\":\"v-").Append(runId).Append('-').Append(visitor).Append('"')
                .Append(",\"timestamp\":\"").Append(DateTimeOffset.UtcNow.ToString("O")).Append('"');
            if (isTrack)
            {
                json.Append(",\"event\":\"").Append(random.Next(2) == 0 ? "add_to_cart" : "signup").Append('"')
                    .Append(",\"properties\":{\"plan\":\"pro\",\"value\":").Append(random.Next(10, 500)).Append('}');
            }

            var referrer = Referrers[random.Next(Referrers.Length)];
            json.Append(",\"context\":{\"page\":{\"url\":\"https://shop.example").Append(path)
                .Append(random.Next(8) == 0 ? "?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday" : "")
                .Append("\",\"path\":\"").Append(path).Append("\",\"title\":\"Shop ").Append(path)
                .Append("\",\"referrer\":\"").Append(referrer).Append("\"}")
                .Append(",\"userAgent\":\"").Append(UserAgents[random.Next(UserAgents.Length)]).Append('"')
                .Append(",\"locale\":\"en-US\",\"screen\":{\"width\":1440,\"height\":900}}}");
        }

        json.Append(']');
        return (Encoding.UTF8.GetBytes(json.ToString()), pageViews);
    }
}
