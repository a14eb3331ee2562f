using System.Text;
using Insights.Contracts;
using Insights.Ingest.Kafka;

namespace Insights.Ingest.Tests.Unit;

public sealed class EventMessageEncoderTests
{
    [Fact]
    public void A_message_is_keyed_by_site_and_visitor_with_schema_and_type_headers_and_decodes_back()
    {
        var e = Parse.One("""{"type":"page","messageId":"m-9","anonymousId":"visitor-1","userId":"u-1","url":"https://shop.example/"}""");

        var message = EventMessageEncoder.Encode(e);

        Assert.Equal("demo:visitor-1", Encoding.UTF8.GetString(message.Key));
        Assert.Equal(
            [("schema", "insights.event.v1"), ("event_type", "pageview")],
            message.Headers.Select(h => (h.Key, Encoding.UTF8.GetString(h.GetValueBytes()))));
        var decoded = EventCodec.Decode(message.Value);
        Assert.Null(decoded.Reason);
        Assert.Equal(e, decoded.Event);
    }

    [Fact]
    public void A_known_visitor_without_an_anonymous_id_is_keyed_by_user_id()
    {
        var e = Parse.One("""{"type":"track","event":"Order Completed","userId":"customer-42"}""");

        Assert.Equal("demo:customer-42", Encoding.UTF8.GetString(EventMessageEncoder.Encode(e).Key));
        Assert.Equal("track", Encoding.UTF8.GetString(EventMessageEncoder.Encode(e).Headers.GetLastBytes("event_type")));
    }
}
