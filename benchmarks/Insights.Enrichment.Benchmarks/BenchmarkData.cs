using System.Diagnostics.Metrics;
using Insights.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Insights.Enrichment.Benchmarks;

/// <summary>A realistic batch and pipelines over the real open data.</summary>
internal static class BenchmarkData
{
    public const int BatchSize = 4_096;

    private static readonly IMeterFactory Meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    /// <summary>Browsers as the device tests know them, plus a few crawlers (about 5% of the batch).</summary>
    public static readonly string[] UserAgents =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/485.0.0.36.107;FBBV/656026035;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.6.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/658376394]",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    ];

    /// <summary>1,000 distinct addresses: random public IPv4 (mostly ISPs and hosters, as real traffic) and IPv6 in real prefixes.</summary>
    public static string[] Addresses(int count = 1_000)
    {
        var random = new Random(42);
        string[] v6Prefixes = ["2a01:4f8", "2601:600", "2001:218", "2a02:cf40", "2603:8000", "2400:cb00", "2a00:1450", "2804:14c"];
        var addresses = new string[count];
        for (var i = 0; i < count; i++)
        {
            addresses[i] = i % 5 == 4
                ? $"{v6Prefixes[random.Next(v6Prefixes.Length)]}:{random.Next(0x10000):x}::{random.Next(0x10000):x}"
                : $"{random.Next(1, 224)}.{random.Next(256)}.{random.Next(256)}.{random.Next(1, 255)}";
        }

        addresses[0] = "139.48.1.1";
        return addresses;
    }

    public static PipelineEvent[] Batch()
    {
        var addresses = Addresses();
        var random = new Random(7);
        return [.. Enumerable.Range(0, BatchSize).Select(i => new PipelineEvent
        {
            EventId = $"event-{i}",
            Type = EventTypes.Pageview,
            SiteId = i % 4 == 0 ? "blog" : "shop",
            AnonymousId = $"visitor-{i % 700}",
            Timestamp = DateTimeOffset.UnixEpoch,
            ReceivedAt = DateTimeOffset.UnixEpoch,
            Ip = addresses[random.Next(addresses.Length)],
            UserAgent = UserAgents[random.Next(100) < 5 ? 12 + random.Next(2) : random.Next(12)],
            Url = "https://shop.example/pricing",
        })];
    }

    public static EnrichmentPipeline Pipeline(Action<EnrichmentOptions>? configure = null)
    {
        var options = new EnrichmentOptions();
        configure?.Invoke(options);
        foreach (var file in new[] { "crawler-user-agents@1.60.0/crawler-user-agents.json", "@ip-location-db/asn@2.3.2026061719/asn-ipv4-num.csv" })
        {
            if (configure is null && !File.Exists(Path.Combine(options.DataDirectory, file)))
            {
                throw new InvalidOperationException($"The open IP data is missing ({file}): run scripts/fetch-ipdata.sh first.");
            }
        }

        return new EnrichmentPipeline(Options.Create(options), NullLogger<EnrichmentPipeline>.Instance, new EnrichmentMetrics(Meters));
    }
}
