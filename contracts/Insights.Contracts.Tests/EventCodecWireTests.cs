using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Insights.Contracts;

namespace Insights.Contracts.Tests;

public sealed class EventCodecWireTests
{
    [Fact]
    public void Non_ascii_text_travels_as_utf8_not_as_escapes()
    {
        var e = new PipelineEvent
        {
            EventId = "e1", Type = EventTypes.Pageview, SiteId = "demo", AnonymousId = "v1",
            Timestamp = DateTimeOffset.UnixEpoch, ReceivedAt = DateTimeOffset.UnixEpoch,
            Title = "価格 & Preise — «Tarife»", Url = "https://shop.example/?a=1&b=<2>",
        };

        var wire = Encoding.UTF8.GetString(EventCodec.Encode(e));

        Assert.Contains("価格 & Preise — «Tarife»", wire, StringComparison.Ordinal);
        Assert.Contains("?a=1&b=<2>", wire, StringComparison.Ordinal);
        Assert.Equal(e.Title, EventCodec.Decode(Encoding.UTF8.GetBytes(wire)).Event!.Title);
    }

    [Fact]
    public void The_fast_writer_writes_what_the_serializer_with_relaxed_escaping_writes_byte_for_byte()
    {
        var envelope = EventCodecTests.Full() with { Title = "価格 \u0001 \"q\" \\ <b>&amp;</b> \u2028 \U0001F600 \uFFFD" };

        Assert.Equal(Reference(envelope, PipelineEventJson.Default.PipelineEvent), EventCodec.Encode(envelope));
        Assert.Equal(Reference(LiveEventContractTests.Full, LiveEventJson.Default.LiveEvent), LiveEventCodec.Encode(LiveEventContractTests.Full));
    }

    [Fact]
    public void A_value_bigger_than_the_kept_buffer_and_the_next_ones_are_whole()
    {
        var huge = EventCodecTests.Full() with { Title = new string('x', 200_000) };
        var small = EventCodecTests.Full();

        var first = EventCodec.Encode(huge);
        var second = EventCodec.Encode(small);

        Assert.Equal(huge.Title, EventCodec.Decode(first).Event!.Title);
        Assert.Equal(Reference(small, PipelineEventJson.Default.PipelineEvent), second);
    }

    [Fact]
    public void Threads_encoding_at_once_each_get_their_own_value()
    {
        var events = Enumerable.Range(0, 2_000).Select(i => EventCodecTests.Full() with { EventId = $"e-{i}" }).ToArray();

        var encoded = new byte[events.Length][];
        Parallel.For(0, events.Length, i => encoded[i] = EventCodec.Encode(events[i]));

        Assert.All(Enumerable.Range(0, events.Length), i => Assert.Equal($"e-{i}", EventCodec.Decode(encoded[i]).Event!.EventId));
    }

    /// <summary>The serializer's own output with the relaxed encoder in its options (its metadata-driven writer).</summary>
    private static byte[] Reference<T>(T value, JsonTypeInfo<T> generated) =>
        JsonSerializer.SerializeToUtf8Bytes(value, (JsonTypeInfo<T>)new JsonSerializerOptions(generated.Options)
        {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }.GetTypeInfo(typeof(T)));
}
