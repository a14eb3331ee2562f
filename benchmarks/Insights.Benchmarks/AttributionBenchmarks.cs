using BenchmarkDotNet.Attributes;
using Insights.Attribution;
using Insights.Attribution.Engine;
using Insights.Contracts;

namespace Insights.Benchmarks;

/// <summary>
/// Attribution's CPU per batch, everything but the I/O: prepare (ids, links, goals, weak-link sightings) and compute every
/// touched person (chats, orders, six models' credits, identities) over the facts of 10,000 events, measured with their
/// decoding against the floor of decoding alone. (Since attribution became a step of the processors' batch, that decode
/// is the processors' own, done once for both.) Events/s per core = 10,000 / mean. The mix: 85 % page views
/// (a fifth logged in, every one with IP and user agent), 5 % custom events, 2 % identify, 6 % chat events, 2 % orders
/// and refunds, from 2,000 visitors; a new engine per operation, so no link is already known.
/// </summary>
[MemoryDiagnoser]
public class AttributionBenchmarks
{
    private const int Events = 10_000;
    private readonly SiteRulebook rules = new([new SiteOptions
    {
        Id = "bench",
        CurrencyRates = new Dictionary<string, decimal> { ["EUR"] = 1.1m },
        Goals =
        [
            new SiteGoal { Id = "thanks", Kind = "page", UrlPattern = "/checkout/*/thank-you", Value = 5 },
            new SiteGoal { Id = "signup", Kind = "event", EventName = "signup" },
            new SiteGoal { Id = "buy", Kind = "order_placed" },
        ],
    }], new EngineSettings());

    private byte[][] values = [];

    [GlobalSetup]
    public void Setup() => values = Mix(Events).Select(EventCodec.Encode).ToArray();

    [Benchmark(Baseline = true, Description = "EventCodec.Decode x10,000 (floor)")]
    public int DecodeOnly()
    {
        var n = 0;
        foreach (var value in values)
        {
            n += EventCodec.Decode(value).Event is null ? 0 : 1;
        }

        return n;
    }

    [Benchmark(Description = "Decode + Prepare + Compute x10,000")]
    public int Attribute()
    {
        var events = new List<PipelineEvent>(values.Length);
        foreach (var value in values)
        {
            if (EventCodec.Decode(value).Event is { } e)
            {
                events.Add(e);
            }
        }

        var engine = new AttributionEngine(rules);
        var prepared = engine.Prepare(events);
        var output = engine.Compute(prepared, new FactSet());
        return output.RowCount;
    }

    /// <summary>A day of a shop's traffic in miniature, deterministic.</summary>
    internal static List<PipelineEvent> Mix(int count)
    {
        var random = new Random(42);
        var start = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        var events = new List<PipelineEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var visitor = random.Next(2_000);
            var at = start.AddSeconds(i * 3);
            var e = new PipelineEvent
            {
                EventId = $"bench-{i:D7}",
                Type = EventTypes.Pageview,
                SiteId = "bench",
                AnonymousId = $"visitor-{visitor}",
                Timestamp = at,
                ReceivedAt = at,
                Ip = $"198.51.{visitor / 256 % 256}.{visitor % 256}",
                UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
                Url = $"https://shop.example/products/{random.Next(300)}?utm_source=news",
                Title = "Product",
            };
            var roll = random.Next(100);
            e = roll switch
            {
                < 17 => e with { UserId = $"user-{visitor}" },
                < 85 => random.Next(40) == 0 ? e with { Url = $"https://shop.example/checkout/{i}/thank-you" } : e,
                < 90 => e with { Type = EventTypes.Track, Name = random.Next(4) == 0 ? "signup" : "add_to_cart", Url = null },
                < 92 => e with { Type = EventTypes.Identify, UserId = $"user-{visitor}", EmailHash = $"{visitor:x8}", Url = null },
                < 94 => e with { Type = EventTypes.ChatStarted, ChatId = $"chat-{visitor}-{i / 500}", AgentId = $"agent-{visitor % 7}", Channel = "website", Url = null },
                < 97 => e with { Type = EventTypes.ChatMessage, ChatId = $"chat-{visitor}-{i / 500}", MessageAuthor = "visitor", Url = null },
                < 98 => e with { Type = EventTypes.ChatEnded, ChatId = $"chat-{visitor}-{i / 500}", Url = null },
                < 99 => e with { Type = EventTypes.Order, OrderId = $"order-{i}", Amount = 20 + random.Next(300), Currency = random.Next(3) == 0 ? "EUR" : "USD", Url = null },
                _ => e with { Type = EventTypes.OrderRefunded, OrderId = $"order-{i - 100}", Amount = 5, Url = null },
            };
            events.Add(e);
        }

        return events;
    }
}
