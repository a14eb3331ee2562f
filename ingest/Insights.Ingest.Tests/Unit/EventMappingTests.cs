using System.Text.Json;
using Insights.Contracts;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Unit;

/// <summary>How one client event becomes a pipeline envelope, and every reason one is refused.</summary>
public sealed class EventMappingTests
{
    [Fact]
    public void A_tracker_pageview_carries_its_page_visitor_screen_locale_and_campaign()
    {
        var e = Parse.One("""
            {"type":"pageview","messageId":"m-1","anonymousId":"visitor-1","timestamp":"2026-03-14T15:00:00.250Z",
             "context":{"page":{"url":"https://shop.example/pricing","referrer":"https://search.example/?q=chat","title":"Pricing"},
                        "locale":"de-DE","screen":{"width":1920,"height":1080},
                        "campaign":{"source":"newsletter","medium":"email","name":"spring","term":"chat tool","content":"hero"}},
             "properties":{"plan":"pro","seats":5}}
            """);

        Assert.Equal("pub:m-1", e.EventId);
        Assert.Equal(EventTypes.Pageview, e.Type);
        Assert.Equal("demo", e.SiteId);
        Assert.Equal("visitor-1", e.AnonymousId);
        Assert.Null(e.UserId);
        Assert.Null(e.Name);
        Assert.Equal(new DateTimeOffset(2026, 3, 14, 15, 0, 0, 250, TimeSpan.Zero), e.Timestamp);
        Assert.Equal(Parse.ReceivedAt, e.ReceivedAt);
        Assert.False(e.TimestampClamped);
        Assert.Equal("https://shop.example/pricing", e.Url);
        Assert.Equal("https://search.example/?q=chat", e.Referrer);
        Assert.Equal("Pricing", e.Title);
        Assert.Equal("de-DE", e.Locale);
        Assert.Equal((1920, 1080), (e.ScreenWidth, e.ScreenHeight));
        Assert.Equal(("newsletter", "email", "spring", "chat tool", "hero"), (e.UtmSource, e.UtmMedium, e.UtmCampaign, e.UtmTerm, e.UtmContent));
        Assert.Equal("203.0.113.9", e.Ip);
        Assert.Equal("Mozilla/5.0 (request)", e.UserAgent);
        Assert.Equal("""{"plan":"pro","seats":5}""", e.Properties?.GetRawText());
        Assert.Equal("demo:visitor-1", e.PartitionKey);
    }

    [Fact]
    public void Segment_page_is_an_alias_and_its_properties_supply_the_page()
    {
        var e = Parse.One("""{"type":"page","userId":"u-7","properties":{"url":"https://shop.example/a","referrer":"https://r.example/","title":"A"}}""");

        Assert.Equal(EventTypes.Pageview, e.Type);
        Assert.Equal(("https://shop.example/a", "https://r.example/", "A"), (e.Url, e.Referrer, e.Title));
        Assert.Equal("demo:u-7", e.PartitionKey);
    }

    [Fact]
    public void A_pageviews_own_properties_of_other_types_are_data_not_errors()
    {
        var e = Parse.One("""{"type":"pageview","anonymousId":"v","url":"https://shop.example/","properties":{"title":{"en":"Home"},"referrer":7}}""");

        Assert.Equal(("https://shop.example/", null, null), (e.Url, e.Title, e.Referrer));
        Assert.Equal("""{"title":{"en":"Home"},"referrer":7}""", e.Properties?.GetRawText());
    }

    [Fact]
    public void Top_level_page_fields_win_over_context_page_which_wins_over_properties()
    {
        var e = Parse.One("""
            {"type":"pageview","anonymousId":"v","url":"https://top.example/","context":{"page":{"url":"https://ctx.example/","title":"ctx"}},
             "properties":{"url":"https://props.example/","title":"props","referrer":"https://props-ref.example/"}}
            """);

        Assert.Equal(("https://top.example/", "ctx", "https://props-ref.example/"), (e.Url, e.Title, e.Referrer));
    }

    [Fact]
    public void A_page_given_as_path_and_search_becomes_a_relative_url_with_its_utm_parameters()
    {
        var e = Parse.One("""{"type":"pageview","anonymousId":"v","context":{"page":{"path":"/landing","search":"?utm_source=ads&utm_medium=cpc"}}}""");

        Assert.Equal("/landing?utm_source=ads&utm_medium=cpc", e.Url);
        Assert.Equal(("ads", "cpc"), (e.UtmSource, e.UtmMedium));
    }

    [Fact]
    public void Without_a_campaign_object_the_utm_parameters_come_from_the_page_url()
    {
        var e = Parse.One("""{"type":"pageview","anonymousId":"v","url":"https://shop.example/?utm_source=news&utm_campaign=spring+sale%21&utm_term=a%20b#top"}""");

        Assert.Equal(("news", null, "spring sale!", "a b", null), (e.UtmSource, e.UtmMedium, e.UtmCampaign, e.UtmTerm, e.UtmContent));
    }

    [Fact]
    public void A_campaign_object_is_the_clients_answer_even_when_the_url_disagrees()
    {
        var e = Parse.One("""{"type":"pageview","anonymousId":"v","url":"https://shop.example/?utm_source=url","context":{"campaign":{"medium":"social"}}}""");

        Assert.Equal((null, "social"), (e.UtmSource, e.UtmMedium));
    }

    [Fact]
    public void A_track_event_keeps_its_name_and_properties()
    {
        var e = Parse.One("""{"type":"track","event":"Chat Started","anonymousId":"v","properties":{"agent":"ann","nested":{"a":[1,2,{"b":null}]}}}""");

        Assert.Equal(EventTypes.Track, e.Type);
        Assert.Equal("Chat Started", e.Name);
        Assert.Null(e.Url);
        Assert.Equal("""{"agent":"ann","nested":{"a":[1,2,{"b":null}]}}""", e.Properties?.GetRawText());
    }

    [Fact]
    public void Event_id_is_messageId_else_event_id_else_a_fresh_uuid_v7_in_the_keys_namespace()
    {
        Assert.Equal("pub:from-event-id", Parse.One("""{"type":"track","event":"x","anonymousId":"v","event_id":"from-event-id"}""").EventId);
        Assert.Equal("pub:m", Parse.One("""{"type":"track","event":"x","anonymousId":"v","messageId":"m","event_id":"e"}""").EventId);
        Assert.Equal("srv:m", Parse.One("""{"type":"track","event":"x","anonymousId":"v","messageId":"m"}""", Parse.Server).EventId);

        var generated = Parse.Json("""[{"type":"track","event":"x","anonymousId":"v"},{"type":"track","event":"x","anonymousId":"v"}]""").Events;
        Assert.All(generated, e => Assert.Equal(7, Guid.Parse(e.EventId["pub:".Length..]).Version));
        Assert.NotEqual(generated[0].EventId, generated[1].EventId);
    }

    [Fact]
    public void No_client_id_can_take_a_webhooks_namespace()
    {
        // A webhook's order is "shopify:order:1"; a client naming its event so lands in its own namespace, beside it.
        Assert.Equal("pub:shopify:order:1", Parse.One("""{"type":"track","event":"x","anonymousId":"v","messageId":"shopify:order:1"}""").EventId);
        Assert.Equal("srv:shopify:order:1",
            ServerParse.One("""{"type":"order","orderId":"1","total":5,"currency":"EUR","messageId":"shopify:order:1"}""").EventId);
        // Nor another key kind's: a browser's "srv:x" is "pub:srv:x".
        Assert.Equal("pub:srv:x", Parse.One("""{"type":"track","event":"x","anonymousId":"v","messageId":"srv:x"}""").EventId);
    }

    [Theory]
    [InlineData("""{"type":"order","orderId":"p7","total":999999999,"currency":"USD"}""", "order")]
    [InlineData("""{"type":"order_refunded","orderId":"p7","amount":10,"currency":"USD"}""", "order_refunded")]
    [InlineData("""{"type":"order_cancelled","orderId":"p7"}""", "order_cancelled")]
    [InlineData("""{"type":"chat_started","chatId":"c","anonymousId":"v"}""", "chat_started")]
    [InlineData("""{"type":"chat_message","chatId":"c","text":"hi"}""", "chat_message")]
    [InlineData("""{"type":"chat_ended","chatId":"c"}""", "chat_ended")]
    [InlineData("""{"type":"chat_rated","chatId":"c","rating":"good"}""", "chat_rated")]
    [InlineData("""{"type":"order"}""", "order")]
    public void A_public_write_key_may_not_send_money_or_chats(string json, string type)
    {
        var rejection = Parse.Rejected(json);

        Assert.Equal(RejectReasons.NeedsServerKey, rejection.Reason);
        Assert.Contains($"\"{type}\"", rejection.Detail, StringComparison.Ordinal);
        Assert.Contains("server key", rejection.Detail, StringComparison.Ordinal);
        // The same event from the shop's server is an event (or refused for its own fields, never for its key).
        Assert.NotEqual(RejectReasons.NeedsServerKey, ServerParse.Json(json).Rejections.SingleOrDefault().Reason);
    }

    [Fact]
    public void A_public_write_key_may_send_what_the_tracker_sends()
    {
        var result = Parse.Json("""
            [{"type":"pageview","anonymousId":"v","context":{"page":{"url":"https://shop.example/"}}},
             {"type":"page","anonymousId":"v","url":"https://shop.example/"},
             {"type":"track","event":"engagement","anonymousId":"v","properties":{"engaged_ms":1200,"pageview_id":"p"}},
             {"type":"identify","anonymousId":"v","userId":"u-1","traits":{"plan":"pro"}},
             {"type":"order","orderId":"o","total":1,"currency":"EUR"}]
            """);

        Assert.Equal(4, result.Events.Count);
        Assert.Equal((4, RejectReasons.NeedsServerKey), (Assert.Single(result.Rejections).Index, result.Rejections[0].Reason));
    }

    [Fact]
    public void A_browser_key_cannot_choose_the_visitors_ip_or_user_agent()
    {
        var e = Parse.One("""{"type":"track","event":"x","anonymousId":"v","context":{"ip":"8.8.8.8","userAgent":"forged"}}""", Parse.Browser);

        Assert.Equal("203.0.113.9", e.Ip);
        Assert.Equal("Mozilla/5.0 (request)", e.UserAgent);
    }

    [Fact]
    public void A_server_key_speaks_for_the_visitor_with_context_ip_and_user_agent()
    {
        var e = Parse.One("""{"type":"track","event":"x","anonymousId":"v","context":{"ip":"::ffff:192.0.2.44","userAgent":"Visitor Browser"}}""", Parse.Server);
        Assert.Equal("192.0.2.44", e.Ip);
        Assert.Equal("Visitor Browser", e.UserAgent);

        var fallback = Parse.One("""{"type":"track","event":"x","anonymousId":"v"}""", Parse.Server);
        Assert.Equal(("198.51.100.1", "shop-backend/1.0"), (fallback.Ip, fallback.UserAgent));

        var bad = Parse.Rejected("""{"type":"track","event":"x","anonymousId":"v","context":{"ip":"not-an-ip"}}""", Parse.Server);
        Assert.Equal((RejectReasons.InvalidField, "\"context.ip\" must be an IPv4 or IPv6 address"), (bad.Reason, bad.Detail));
    }

    [Fact]
    public void Client_clock_skew_is_corrected_with_sentAt_and_implausible_times_are_clamped()
    {
        // The client's clock is 2 h behind: it says it sent at 13:09:26 what ingest received at 15:09:26.
        var skewed = Parse.One("""{"type":"track","event":"x","anonymousId":"v","timestamp":"2026-03-14T13:00:00Z","sentAt":"2026-03-14T13:09:26Z"}""");
        Assert.Equal(new DateTimeOffset(2026, 3, 14, 15, 0, 0, TimeSpan.Zero), skewed.Timestamp);
        Assert.False(skewed.TimestampClamped);

        var future = Parse.One("""{"type":"track","event":"x","anonymousId":"v","timestamp":"2027-01-01T00:00:00Z"}""");
        Assert.Equal((Parse.ReceivedAt, true), (future.Timestamp, future.TimestampClamped));

        var missing = Parse.One("""{"type":"track","event":"x","anonymousId":"v"}""");
        Assert.Equal((Parse.ReceivedAt, false), (missing.Timestamp, missing.TimestampClamped));
    }

    [Fact]
    public void Timestamps_with_an_offset_name_their_instant_and_without_one_are_utc()
    {
        var offset = Parse.One("""{"type":"track","event":"x","anonymousId":"v","timestamp":"2026-03-14T17:00:00+02:00"}""");
        var bare = Parse.One("""{"type":"track","event":"x","anonymousId":"v","timestamp":"2026-03-14T15:00:00"}""");
        var escaped = Parse.One("""{"type":"track","event":"x","anonymousId":"v","timestamp":"2026-03-14T15:00:00\u005A"}""");

        var expected = new DateTimeOffset(2026, 3, 14, 15, 0, 0, TimeSpan.Zero);
        Assert.Equal(expected, offset.Timestamp);
        Assert.Equal(expected, bare.Timestamp);
        Assert.Equal(expected, escaped.Timestamp);
        Assert.Equal(TimeSpan.Zero, offset.Timestamp.Offset);
    }

    [Theory]
    [InlineData("""{"anonymousId":"v"}""", RejectReasons.MissingType)]
    [InlineData("""{"type":null,"anonymousId":"v"}""", RejectReasons.MissingType)]
    [InlineData("""{"type":"merge","anonymousId":"v"}""", RejectReasons.UnknownType)]
    [InlineData("""{"type":"alias","userId":"u"}""", TypeRejectReasons.MissingPreviousId)]
    [InlineData("""{"type":"alias","previousId":"v","anonymousId":"v2"}""", TypeRejectReasons.MissingUserId)]
    [InlineData("""{"type":"group","userId":"u"}""", TypeRejectReasons.MissingGroupId)]
    [InlineData("""{"type":"group","userId":"u","groupId":"g","traits":[1]}""", RejectReasons.InvalidField)]
    [InlineData("""{"type":"screen","name":"Settings"}""", RejectReasons.MissingAnonymousId)]
    [InlineData("""{"type":"PAGEVIEW","anonymousId":"v","url":"/"}""", RejectReasons.UnknownType)]
    [InlineData("""{"type":7,"anonymousId":"v"}""", RejectReasons.UnknownType)]
    [InlineData("""{"type":"track","event":"x"}""", RejectReasons.MissingAnonymousId)]
    [InlineData("""{"type":"track","event":"x","anonymousId":"","userId":""}""", RejectReasons.MissingAnonymousId)]
    [InlineData("""{"type":"track","anonymousId":"v"}""", RejectReasons.MissingEventName)]
    [InlineData("""{"type":"track","event":"","anonymousId":"v"}""", RejectReasons.MissingEventName)]
    [InlineData("""{"type":"pageview","anonymousId":"v"}""", RejectReasons.MissingUrl)]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","timestamp":"yesterday"}""", RejectReasons.InvalidTimestamp)]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","sentAt":"2026-13-01T00:00:00Z"}""", RejectReasons.InvalidTimestamp)]
    [InlineData("""["not","an","object"]""", RejectReasons.NotAnObject)]
    public void Invalid_events_are_rejected_with_a_machine_readable_reason(string json, string reason)
    {
        var result = Parse.Json($"[{json}]");

        Assert.Empty(result.Events);
        Assert.Equal(reason, Assert.Single(result.Rejections).Reason);
    }

    [Theory]
    [InlineData("""{"type":"track","event":"x","anonymousId":42}""", "\"anonymousId\" must be a string, got a number")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","userId":{"id":1}}""", "\"userId\" must be a string, got an object")]
    [InlineData("""{"type":"track","event":true,"anonymousId":"v"}""", "\"event\" must be a string, got a boolean")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","messageId":["m"]}""", "\"messageId\" must be a string, got an array")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","timestamp":1700000000000}""", "\"timestamp\" must be an ISO 8601 string, got a number")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","properties":[1,2]}""", "\"properties\" must be an object, got an array")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","properties":"a=b"}""", "\"properties\" must be an object, got a string")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","context":"web"}""", "\"context\" must be an object, got a string")]
    [InlineData("""{"type":"pageview","anonymousId":"v","context":{"page":"https://x/"}}""", "\"context.page\" must be an object, got a string")]
    [InlineData("""{"type":"pageview","anonymousId":"v","context":{"page":{"url":5}}}""", "\"context.page.url\" must be a string, got a number")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","context":{"screen":{"width":"1920"}}}""", "\"context.screen.width\" must be a whole number of pixels from 0 to 65535")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","context":{"screen":{"height":1e400}}}""", "\"context.screen.height\" must be a whole number of pixels from 0 to 65535")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","context":{"screen":{"width":-1}}}""", "\"context.screen.width\" must be a whole number of pixels from 0 to 65535")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","context":{"screen":{"width":1.5}}}""", "\"context.screen.width\" must be a whole number of pixels from 0 to 65535")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","context":{"campaign":{"source":["a"]}}}""", "\"context.campaign.source\" must be a string, got an array")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v\ud800"}""", "\"anonymousId\" is not a valid Unicode string (a lone surrogate escape)")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","properties":{"bad":"\udc00"}}""", "\"properties\" holds an invalid Unicode escape (a lone surrogate such as \\ud800)")]
    [InlineData("""{"type":"track","event":"x","anonymousId":"v","properties":{"\ud800":1}}""", "\"properties\" holds an invalid Unicode escape (a lone surrogate such as \\ud800)")]
    public void Wrong_types_name_the_field_and_what_it_must_be(string json, string detail)
    {
        var rejection = Parse.Rejected(json);

        Assert.Equal(RejectReasons.InvalidField, rejection.Reason);
        Assert.Equal(detail, rejection.Detail);
    }

    [Fact]
    public void Identifiers_longer_than_the_limit_are_refused_but_long_page_fields_are_data()
    {
        var longId = new string('a', 257);
        var rejection = Parse.Rejected($$"""{"type":"track","event":"x","anonymousId":"{{longId}}"}""");
        Assert.Equal("\"anonymousId\" is longer than 256 characters", rejection.Detail);

        var longUrl = "https://shop.example/" + new string('p', 20_000);
        Assert.Equal(longUrl, Parse.One($$"""{"type":"pageview","anonymousId":"v","url":"{{longUrl}}"}""").Url);
    }

    [Fact]
    public void Null_fields_are_absent_and_unknown_fields_are_ignored()
    {
        var e = Parse.One("""
            {"type":"track","event":"x","anonymousId":"v","userId":null,"properties":null,"context":{"library":{"name":"analytics.js"},"screen":null,"page":null},
             "integrations":{"All":false},"version":2}
            """);

        Assert.Null(e.UserId);
        Assert.Null(e.Properties);
        Assert.Null(e.ScreenWidth);
    }

    [Fact]
    public void Hostile_strings_pass_through_as_data_unchanged()
    {
        const string sql = "'; DROP TABLE events; -- \" OR 1=1 /*";
        const string controls = "nul\u0000 esc\u001b[31m bell\u0007 tab\t cr\r lf\n del\u007f";
        const string unicode = "RTL\u202Eevil \U0001F600 Z\u0351\u0354\u0359 \uFEFF bom";
        var properties = JsonSerializer.Serialize(new Dictionary<string, string> { ["sql"] = sql, ["controls"] = controls, ["unicode"] = unicode, ["html"] = "<script>alert(1)</script>" });
        var json = $$"""{"type":"track","event":{{JsonSerializer.Serialize(sql)}},"anonymousId":{{JsonSerializer.Serialize(controls)}},"userId":{{JsonSerializer.Serialize(unicode)}},"properties":{{properties}}}""";

        var e = Parse.One(json);

        Assert.Equal(sql, e.Name);
        Assert.Equal(controls, e.AnonymousId);
        Assert.Equal(unicode, e.UserId);
        var decoded = e.Properties!.Value;
        Assert.Equal(sql, decoded.GetProperty("sql").GetString());
        Assert.Equal(controls, decoded.GetProperty("controls").GetString());
        Assert.Equal(unicode, decoded.GetProperty("unicode").GetString());
        Assert.Equal("<script>alert(1)</script>", decoded.GetProperty("html").GetString());
    }
}
