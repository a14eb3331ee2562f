using System.Text;
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
}
