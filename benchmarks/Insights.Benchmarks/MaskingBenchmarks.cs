using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Insights.Contracts;
using Insights.Ingest.Masking;

namespace Insights.Benchmarks;

/// <summary>
/// Card masking is linear in the text's length, for prose and for adversarial digit runs: ns per character should stay
/// flat from 1 KB to 1 MB. Baseline: one vectorized pass over the same text (the floor any scan pays).
/// </summary>
[MemoryDiagnoser]
public class CardMaskingBenchmarks
{
    [Params(1 << 10, 32 << 10, 1 << 20)]
    public int Chars { get; set; }

    [Params("prose", "prose+cards", "digits 4 4 4 (mixed separators)", "4111 1111 1111 1112 (Luhn fails)", "one digit run", "IBAN-like AB1234...")]
    public string Input { get; set; } = "";

    private string text = "";

    [GlobalSetup]
    public void Setup() => text = MaskingInputs.Make(Input, Chars);

    [Benchmark(Baseline = true, Description = "one vectorized scan (floor)")]
    public int Scan() => text.AsSpan().IndexOf('\u0001');

    [Benchmark(Description = "CardNumberMasker.Mask")]
    public int Mask() => CardNumberMasker.Mask(text).Length;
}

/// <summary>The privacy step over a 100-event batch: nothing to mask (the common case, no allocation) and one card per event.</summary>
[MemoryDiagnoser]
public class PersonalDataPolicyBenchmarks
{
    private static readonly SiteOptions Site = new() { Id = "demo" };
    private PipelineEvent[] clean = [];
    private PipelineEvent[] withCards = [];
    private List<PipelineEvent> batch = [];

    [GlobalSetup]
    public void Setup()
    {
        clean = Events("""{"plan":"pro","seats":3,"ts":1733306400000,"path":"/pricing","label":"Compare plans","price":"1,499.90"}""");
        withCards = Events("""{"plan":"pro","seats":3,"note":"card 4111 1111 1111 1111","contact":"maria@example.com"}""");
        batch = new List<PipelineEvent>(100);
    }

    [Benchmark(Baseline = true, Description = "100 events, nothing to mask")]
    public int Clean() => Run(clean);

    [Benchmark(Description = "100 events, a card and an address in each")]
    public int WithCards() => Run(withCards);

    private int Run(PipelineEvent[] events)
    {
        batch.Clear();
        batch.AddRange(events);
        PersonalDataPolicy.Apply(Site, batch);
        return batch.Count;
    }

    private static PipelineEvent[] Events(string properties)
    {
        var now = DateTimeOffset.Parse("2026-12-04T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var json = JsonDocument.Parse(properties).RootElement.Clone();
        return Enumerable.Range(0, 100).Select(i => new PipelineEvent
        {
            EventId = $"e{i}",
            Type = EventTypes.Track,
            SiteId = "demo",
            AnonymousId = $"v{i}",
            Name = "Plan Selected",
            Url = "https://shop.example/pricing?utm_source=news&utm_medium=email&utm_campaign=winter",
            Referrer = "https://www.google.com/",
            Title = "Pricing - Shop",
            Timestamp = now,
            ReceivedAt = now,
            UtmSource = "news",
            UtmMedium = "email",
            UtmCampaign = "winter",
            Properties = json,
        }).ToArray();
    }
}

internal static class MaskingInputs
{
    public static string Make(string kind, int chars)
    {
        var unit = kind switch
        {
            "prose" => "The quick brown fox jumps over the lazy dog; order shipped on time, thanks! ",
            "prose+cards" => "Hi, please charge 4111 1111 1111 1111 (exp 12/26) for order 100234567, call +1 800 852 9001. Regards, Maria. ",
            "digits 4 4 4 (mixed separators)" => "4 4-4.4\u00A04\u20094\n4\u202F4\r\n",
            "4111 1111 1111 1112 (Luhn fails)" => "4111 1111 1111 1112 ",
            "one digit run" => "4",
            "IBAN-like AB1234..." => "DE7950010517540700022 ",
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        var text = new StringBuilder(chars + unit.Length);
        while (text.Length < chars)
        {
            text.Append(unit);
        }

        return text.ToString(0, chars);
    }
}
