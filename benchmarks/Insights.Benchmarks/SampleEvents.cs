using System.Globalization;
using System.Text;
using Insights.Contracts;
using Insights.Ingest;
using Insights.Ingest.Parsing;

namespace Insights.Benchmarks;

/// <summary>Request bodies shaped like real tracker traffic: page views with context, some custom events.</summary>
internal static class SampleEvents
{
    private const string Track =
        """{"type":"track","messageId":"m-#N","anonymousId":"v-#V","event":"add_to_cart","properties":{"sku":"A-#N","price":19.9,"qty":2},"timestamp":"2026-11-26T10:00:00.000Z","context":{"page":{"url":"https://shop.example/products/#N"},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}}""";

    private const string Pageview =
        """{"type":"pageview","messageId":"m-#N","anonymousId":"v-#V","timestamp":"2026-11-26T10:00:00.000Z","context":{"page":{"url":"https://shop.example/pricing?utm_source=newsletter&utm_medium=email","title":"Pricing","referrer":"https://www.google.com/"},"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15","locale":"en-US","screen":{"width":1440,"height":900}}}""";

    /// <summary>A <see cref="Batch"/> as ingest admits it: parsed, validated and mapped to envelopes.</summary>
    public static List<PipelineEvent> Envelopes(int size)
    {
        var parser = new EventBatchParser(new IngestOptions());
        // The envelopes own no documents once their properties are cloned, so they outlive the parse.
        using var batch = parser.Parse(Batch(size), BodyFormat.Json, new IngestRequestContext(
            "demo", KeyKind.Write, DateTimeOffset.Parse("2026-11-26T10:00:01Z", CultureInfo.InvariantCulture), "203.0.113.7", "bench"));
        return batch.Events.Select(e => e with { Properties = e.Properties?.Clone() }).ToList();
    }

    public static byte[] Batch(int size)
    {
        var json = new StringBuilder("[");
        for (var i = 0; i < size; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            var visitor = (i % 37).ToString(CultureInfo.InvariantCulture);
            json.Append(i == 0 ? "" : ",").Append((i % 10 == 0 ? Track : Pageview).Replace("#N", n, StringComparison.Ordinal)
                .Replace("#V", visitor, StringComparison.Ordinal));
        }

        return Encoding.UTF8.GetBytes(json.Append(']').ToString());
    }
}
