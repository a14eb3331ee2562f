using System.Text;
using System.Text.Json;

namespace Insights.Contracts.Tests;

public sealed class EventCodecTests
{
    internal static PipelineEvent Full() => new()
    {
        EventId = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        Type = EventTypes.Pageview,
        SiteId = "demo",
        AnonymousId = "visitor-1",
        UserId = "customer-9",
        Name = "Pricing",
        Timestamp = new DateTimeOffset(2026, 3, 14, 15, 9, 26, 535, TimeSpan.Zero),
        ReceivedAt = new DateTimeOffset(2026, 3, 14, 15, 9, 27, 1, TimeSpan.Zero),
        TimestampClamped = true,
        Ip = "2001:db8::1",
        UserAgent = "Mozilla/5.0 \"quoted\" \\ back",
        Url = "https://shop.example/p?a=1&b=<2>",
        Referrer = "https://search.example/",
        Title = "Gr\u00fc\u00dfe \U0001F600 \u202Eltr",
        Locale = "de-DE",
        ScreenWidth = 65535,
        ScreenHeight = 0,
        UtmSource = "news",
        UtmMedium = "email",
        UtmCampaign = "spring",
        UtmTerm = "chat",
        UtmContent = "hero",
        Properties = JsonDocument.Parse("""{"plan":"pro","nested":{"list":[1,2.5,null,true,"\u0000"]}}""").RootElement,
        Source = "livechat",
        EmailHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ChatId = "chat-7",
        AgentId = "agent@shop.example",
        Channel = "whatsapp",
        MessageAuthor = "visitor",
        MessageText = "Is the \"pro\" plan monthly?",
        Rating = 1,
        OrderId = "order-1001",
        Amount = 1234.5678m,
        Currency = "EUR",
        Coupon = "SPRING",
        PreviousId = "visitor-0",
    };

    [Fact]
    public void The_full_sample_sets_every_field_so_the_round_trip_covers_the_whole_envelope()
    {
        var full = Full();
        var unset = typeof(PipelineEvent).GetProperties()
            .Where(p => p.SetMethod is not null && p.Name != nameof(PipelineEvent.V))
            .Where(p => p.GetValue(full) is null or false)
            .Select(p => p.Name);

        Assert.Empty(unset);
    }

    [Fact]
    public void Every_field_survives_encode_and_decode()
    {
        var sent = Full();

        var decoded = EventCodec.Decode(EventCodec.Encode(sent));

        Assert.Null(decoded.Reason);
        Assert.Null(decoded.Detail);
        var received = decoded.Event!;
        // JsonElement compares by reference; the properties are compared by their JSON.
        Assert.Equal(sent with { Properties = null }, received with { Properties = null });
        Assert.Equal(sent.Properties!.Value.GetRawText(), received.Properties!.Value.GetRawText());
        Assert.Equal(sent.Timestamp, received.Timestamp);
        Assert.Equal(TimeSpan.Zero, received.ReceivedAt.Offset);
    }

    [Fact]
    public void The_wire_format_is_snake_case_without_nulls_or_the_partition_key()
    {
        var minimal = new PipelineEvent
        {
            EventId = "e",
            Type = EventTypes.Track,
            SiteId = "demo",
            AnonymousId = "v",
            Name = "Signed Up",
            Timestamp = DateTimeOffset.UnixEpoch,
            ReceivedAt = DateTimeOffset.UnixEpoch,
        };

        using var json = JsonDocument.Parse(EventCodec.Encode(minimal));

        Assert.Equal(
            ["v", "event_id", "type", "site_id", "anonymous_id", "name", "timestamp", "received_at", "timestamp_clamped"],
            json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, json.RootElement.GetProperty("v").GetInt32());
    }

    [Fact]
    public void The_key_is_site_and_visitor_falling_back_to_the_user()
    {
        var e = Full();

        Assert.Equal("demo:visitor-1", Encoding.UTF8.GetString(EventCodec.EncodeKey(e)));
        Assert.Equal("demo:customer-9", Encoding.UTF8.GetString(EventCodec.EncodeKey(e with { AnonymousId = null })));
        Assert.Equal("demo:v\u00e9", Encoding.UTF8.GetString(EventCodec.EncodeKey(e with { AnonymousId = "v\u00e9" })));
    }

    [Fact]
    public void The_schema_header_value_is_the_schema_name() =>
        Assert.Equal("insights.event.v1", Encoding.ASCII.GetString(EventCodec.SchemaValue));

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("[1,2,3]")]
    [InlineData("\"a string\"")]
    [InlineData("{\"v\":1,\"event_id\":\"e\",\"type\":\"track\",\"site_id\":\"demo\",\"timestamp\":\"2026-01-01T00:00:00Z\"")]
    [InlineData("""{"v":1,"event_id":"e","type":"track","site_id":"demo","timestamp":"yesterday","received_at":"2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"v":1,"event_id":42,"type":"track","site_id":"demo","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"v":1,"type":"track","site_id":"demo","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"v":"1","event_id":"e","type":"track","site_id":"demo","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z"}""")]
    public void Values_that_are_not_an_envelope_are_undecodable(string value)
    {
        var decoded = EventCodec.Decode(Encoding.UTF8.GetBytes(value));

        Assert.Null(decoded.Event);
        Assert.Equal("undecodable", decoded.Reason);
        Assert.False(string.IsNullOrEmpty(decoded.Detail));
    }

    [Fact]
    public void Invalid_utf8_is_undecodable_not_an_exception()
    {
        byte[] value = [.. """{"v":1,"event_id":"e"""u8, 0xFF, .. "\",\"type\":\"track\",\"site_id\":\"demo\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"received_at\":\"2026-01-01T00:00:00Z\"}"u8];

        var decoded = EventCodec.Decode(value);

        Assert.Equal("undecodable", decoded.Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Other_envelope_versions_are_unknown_version(int version)
    {
        var decoded = EventCodec.Decode(Envelope(v: version));

        Assert.Equal("unknown_version", decoded.Reason);
        Assert.Equal($"envelope version {version} is not supported", decoded.Detail);
    }

    [Theory]
    [InlineData("", "demo", "track")]
    [InlineData("e", "", "track")]
    [InlineData("e", "demo", "")]
    public void Empty_required_fields_are_schema_invalid(string eventId, string siteId, string type) =>
        Assert.Equal("schema_invalid", EventCodec.Decode(Envelope(eventId: eventId, siteId: siteId, type: type)).Reason);

    [Theory]
    [InlineData("screen_view")]
    [InlineData("PAGEVIEW")]
    [InlineData("merge")]
    public void Types_this_version_does_not_know_are_unknown_type(string type)
    {
        var decoded = EventCodec.Decode(Envelope(type: type));

        Assert.Equal("unknown_type", decoded.Reason);
        Assert.Equal($"event type '{type}' is not known", decoded.Detail);
    }

    [Fact]
    public void The_known_types_are_page_views_custom_events_identities_chats_and_orders()
    {
        Assert.Equal(
            ["alias", "chat_ended", "chat_message", "chat_rated", "chat_started", "group", "identify", "order", "order_cancelled", "order_refunded", "pageview", "screen", "track"],
            EventTypes.Known.Order(StringComparer.Ordinal));
        Assert.All(EventTypes.Known, type => Assert.Null(EventCodec.Decode(Envelope(type: type)).Reason));
    }

    [Fact]
    public void Unknown_fields_from_a_newer_writer_are_ignored()
    {
        var value = """{"v":1,"event_id":"e","type":"track","site_id":"demo","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z","order_total":12.5,"chat":{"id":"c"}}""";

        Assert.Equal("e", EventCodec.Decode(Encoding.UTF8.GetBytes(value)).Event?.EventId);
    }

    private static byte[] Envelope(int v = 1, string eventId = "e", string siteId = "demo", string type = "track") =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["v"] = v,
            ["event_id"] = eventId,
            ["type"] = type,
            ["site_id"] = siteId,
            ["timestamp"] = "2026-01-01T00:00:00Z",
            ["received_at"] = "2026-01-01T00:00:00Z",
        }));
}
