using System.Text;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.QueryApi.Live;

namespace Insights.QueryApi.Tests;

/// <summary>
/// What presence takes from one enriched-topic message, decoded where the Kafka client holds it: the events of its good
/// lines in order, and a reason for each bad line or for the whole message (the end-to-end path is in
/// <see cref="LiveStreamTests"/>).
/// </summary>
public sealed class LiveMessageTests
{
    private static readonly SerializationContext Context = new(MessageComponentType.Value, Topics.Enriched);

    private static LiveEvent View(string id) => new()
    {
        EventId = id,
        Type = EventTypes.Pageview,
        SiteId = "shop",
        VisitorId = "v-" + id,
        Timestamp = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero),
        ReceivedAt = new DateTimeOffset(2026, 12, 7, 12, 0, 1, TimeSpan.Zero),
        Url = "https://shop.example/" + id,
    };

    private static LiveMessage Read(ReadOnlySpan<byte> value, int maxBytes = 64 * 1024, bool isNull = false) =>
        new LiveMessageDeserializer(maxBytes).Deserialize(value, isNull, Context);

    [Fact]
    public void A_bundle_gives_its_good_lines_in_order_and_a_reason_for_each_bad_one()
    {
        var value = Encoding.UTF8.GetBytes(
            Encoding.UTF8.GetString(LiveEventCodec.Encode(View("a"))) + "\n{not json\n\n" +
            """{"v":7,"event_id":"x","type":"pageview","site_id":"shop","timestamp":"2026-12-07T12:00:00Z","received_at":"2026-12-07T12:00:00Z"}""" + "\n" +
            Encoding.UTF8.GetString(LiveEventCodec.Encode(View("b"))) + "\n");

        var message = Read(value);

        Assert.Equal(["a", "b"], message.Events.Select(e => e.EventId));
        Assert.Equal("https://shop.example/b", message.Events[1].Url);
        Assert.Equal(["undecodable", "unknown_version"], message.Skipped);
    }

    [Fact]
    public void A_single_event_is_a_message_of_one_line()
    {
        var message = Read(LiveEventCodec.Encode(View("only")));

        Assert.Equal("only", Assert.Single(message.Events).EventId);
        Assert.Empty(message.Skipped);
    }

    [Fact]
    public void A_message_over_the_limit_is_skipped_whole_without_being_read()
    {
        var one = LiveEventCodec.Encode(View("a"));
        var value = Enumerable.Repeat(one, 4).SelectMany(line => line.Append(LiveEventCodec.Separator)).ToArray();

        var message = Read(value, maxBytes: value.Length - 1);

        Assert.Empty(message.Events);
        Assert.Equal(["oversized"], message.Skipped);
        Assert.Equal(4, Read(value, maxBytes: value.Length).Events.Count);
    }

    [Theory]
    [InlineData(true, "")]
    [InlineData(false, "")]
    [InlineData(false, "\n\n\n")]
    public void A_null_or_empty_message_is_undecodable_once(bool isNull, string value)
    {
        var message = Read(Encoding.UTF8.GetBytes(value), isNull: isNull);

        Assert.Empty(message.Events);
        Assert.Equal(["undecodable"], message.Skipped);
    }

    [Fact]
    public void Hostile_bytes_are_reasons_never_exceptions()
    {
        byte[][] values =
        [
            [0xFF, 0xFE, 0x00, (byte)'\n', 0xC3],
            Encoding.UTF8.GetBytes(new string('[', 5_000)),
            Encoding.UTF8.GetBytes("""{"v":2,"event_id":"\ud800","type":"pageview","site_id":"shop"}"""),
            Encoding.UTF8.GetBytes("null\nnull"),
        ];

        foreach (var value in values)
        {
            var message = Read(value);

            Assert.Empty(message.Events);
            Assert.NotEmpty(message.Skipped);
            Assert.All(message.Skipped, reason => Assert.Contains(reason, new[] { "undecodable", "unknown_version", "schema_invalid" }));
        }
    }
}
