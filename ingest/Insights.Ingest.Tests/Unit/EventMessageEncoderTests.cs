using System.Text;
using Insights.Contracts;
using Insights.Ingest.Kafka;

namespace Insights.Ingest.Tests.Unit;

public sealed class EventMessageEncoderTests
{
    [Fact]
    public void A_batch_becomes_one_message_per_event_keyed_by_site_and_visitor_without_headers_and_each_decodes_back()
    {
        var page = Parse.One("""{"type":"page","messageId":"m-9","anonymousId":"visitor-1","userId":"u-1","url":"https://shop.example/"}""");
        var track = Parse.One("""{"type":"track","event":"Chat Started","messageId":"m-10","anonymousId":"visitor-2"}""");

        var messages = EventMessageEncoder.EncodeAll([page, track]);

        Assert.Equal(["demo:visitor-1", "demo:visitor-2"], messages.Select(m => Encoding.UTF8.GetString(m.Key)));
        // The value names its version and type; headers would cost a marshalling per message in librdkafka's client.
        Assert.All(messages, m => Assert.Null(m.Headers));
        Assert.Equal([page, track], messages.Select(m => EventCodec.Decode(m.Value).Event));
    }

    [Fact]
    public void A_known_visitor_without_an_anonymous_id_is_keyed_by_user_id()
    {
        var e = Parse.One("""{"type":"track","event":"Order Completed","userId":"customer-42"}""");

        var message = Assert.Single(EventMessageEncoder.EncodeAll([e]));

        Assert.Equal("demo:customer-42", Encoding.UTF8.GetString(message.Key));
        Assert.Equal("track", EventCodec.Decode(message.Value).Event?.Type);
    }
}
