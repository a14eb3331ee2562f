using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Insights.Contracts;

namespace Insights.Benchmarks;

/// <summary>
/// Decoding an <c>insights.events</c> value, which both consumer groups do for every event: the hand-written reader
/// (<see cref="EventCodec.Decode"/>) against the source-generated contract it replaced on the read path (baseline).
/// 10,000 values: the attribution benchmark's mix, its page views with a tracker's full context (referrer, locale,
/// screen, campaign) and its custom events with properties, as ingest writes them.
/// </summary>
[MemoryDiagnoser]
public class EventDecodeBenchmarks
{
    private static readonly JsonElement CartProperties = JsonDocument.Parse("""{"sku":"A-1001","price":19.9,"qty":2}""").RootElement;
    private byte[][] values = [];

    [GlobalSetup]
    public void Setup() => values = AttributionBenchmarks.Mix(10_000).Select(e => EventCodec.Encode(e.Type switch
    {
        EventTypes.Pageview => e with
        {
            Referrer = "https://www.google.com/", Locale = "en-US", ScreenWidth = 1440, ScreenHeight = 900, UtmSource = "news", UtmMedium = "email",
            Source = "tracker",
        },
        EventTypes.Track => e with { Properties = CartProperties, Source = "tracker" },
        _ => e,
    })).ToArray();

    [Benchmark(Baseline = true, Description = "generated contract x10,000")]
    public int Generated()
    {
        var n = 0;
        foreach (var value in values)
        {
            n += JsonSerializer.Deserialize(value, PipelineEventJson.Default.PipelineEvent) is null ? 0 : 1;
        }

        return n;
    }

    [Benchmark(Description = "EventCodec.Decode x10,000")]
    public int Decode()
    {
        var n = 0;
        foreach (var value in values)
        {
            n += EventCodec.Decode(value).Event is null ? 0 : 1;
        }

        return n;
    }
}
