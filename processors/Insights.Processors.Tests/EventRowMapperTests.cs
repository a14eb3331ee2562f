using System.Net;
using System.Text;
using System.Text.Json;
using Insights.Contracts;

namespace Insights.Processors.Tests;

public sealed class EventRowMapperTests
{
    [Theory]
    [InlineData("https://shop.example.com/products/1?utm_source=x#top", "/products/1")]
    [InlineData("https://shop.example.com", "/")]
    [InlineData("https://shop.example.com?q=1", "/")]
    [InlineData("https://shop.example.com#frag", "/")]
    [InlineData("http://shop.example.com:8080/a/b/", "/a/b/")]
    [InlineData("/checkout?step=2", "/checkout")]
    [InlineData("/plain", "/plain")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Path_is_the_url_without_host_query_or_fragment(string? url, string expected) =>
        Assert.Equal(expected, EventRowMapper.PathOf(url));

    [Theory]
    [InlineData("https://www.Google.com/search?q=shoes", "google.com")]
    [InlineData("https://news.ycombinator.com", "news.ycombinator.com")]
    [InlineData("http://user:secret@Example.org:8443/x", "example.org")]
    [InlineData("https://example.org.?x", "example.org")]
    [InlineData("http://[2001:db8::1]:8080/p", "[2001:db8::1]")]
    [InlineData("android-app://com.google.android.gm/", "com.google.android.gm")]
    [InlineData("not a url", "")]
    [InlineData("/relative/path", "")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Referrer_host_groups_a_source_whatever_its_spelling(string? referrer, string expected) =>
        Assert.Equal(expected, EventRowMapper.ReferrerHostOf(referrer));

    [Theory]
    [InlineData("203.0.113.7", "::ffff:203.0.113.7")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("::ffff:198.51.100.2", "::ffff:198.51.100.2")]
    [InlineData("fe80::1%2", "fe80::1")]
    public void Ip_is_stored_as_ipv6_with_ipv4_mapped(string ip, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), EventRowMapper.ParseIp(ip));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("unknown")]
    [InlineData("1")]
    [InlineData("0x7f.1")]
    [InlineData("999.1.1.1")]
    [InlineData("1.2.3.4; DROP TABLE events")]
    public void Anything_that_is_not_an_address_is_stored_as_null(string? ip) =>
        Assert.Null(EventRowMapper.ParseIp(ip));

    [Fact]
    public void A_row_has_one_value_per_column_in_column_order()
    {
        var e = new PipelineEvent
        {
            EventId = "ev-1",
            Type = EventTypes.Track,
            SiteId = "demo",
            Name = "Signed Up",
            AnonymousId = "anon-1",
            Timestamp = new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.FromHours(2)),
            ReceivedAt = new DateTimeOffset(2026, 11, 20, 8, 0, 1, TimeSpan.Zero),
            TimestampClamped = true,
            Ip = "203.0.113.7",
            Url = "https://a.example/pricing?x=1",
            Referrer = "https://www.bing.com/",
            ScreenWidth = 100_000,
            ScreenHeight = -5,
            Properties = JsonDocument.Parse("""{"plan":"pro","seats":3}""").RootElement,
        };

        var row = EventRowMapper.ToRow(e);
        var values = EventRowMapper.Columns.Zip(row).ToDictionary(c => c.First, c => c.Second);

        Assert.Equal(EventRowMapper.Columns.Length, row.Length);
        Assert.All(EventRowMapper.Columns, c => Assert.True(EventRowMapper.ColumnTypes.ContainsKey(c), c));
        Assert.Equal(new DateTime(2026, 11, 20, 8, 0, 0, DateTimeKind.Utc), values["timestamp"]);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)values["timestamp"]).Kind);
        Assert.Equal("/pricing", values["path"]);
        Assert.Equal("bing.com", values["referrer_host"]);
        Assert.Equal(IPAddress.Parse("::ffff:203.0.113.7"), values["ip"]);
        Assert.Equal((ushort)65535, values["screen_width"]);
        Assert.Equal((ushort)0, values["screen_height"]);
        Assert.Equal("""{"plan":"pro","seats":3}""", values["properties"]);
        Assert.Equal("", values["user_id"]);
        Assert.Equal(true, values["timestamp_clamped"]);
    }

    [Fact]
    public void A_valid_message_maps_to_a_row()
    {
        var e = TestEvents.Pageviews(1)[0];

        var mapped = EventRowMapper.Map(EventCodec.Encode(e), EventCodec.SchemaValue);

        Assert.False(mapped.IsPoison);
        Assert.Equal(e.EventId, mapped.Row![0]);
    }

    [Fact]
    public void The_processors_map_into_the_enriched_row_and_fill_it_in_place_as_a_copy_would_be_filled()
    {
        var e = TestEvents.Pageviews(1)[0] with { Ip = "203.0.113.7", Referrer = "https://www.bing.com/", ScreenWidth = 1280 };
        var value = EventCodec.Encode(e);
        var ipv6 = new Dictionary<IPAddress, IPAddress>();

        var wide = EventRowMapper.Map(value, EventCodec.SchemaValue, EnrichedRowMapper.Columns.Length).Row!;
        var narrow = EventRowMapper.Map(value, EventCodec.SchemaValue).Row!;

        // The wide row leaves the IP to the enrichment (the privacy mode decides it); every other base column is the same.
        Assert.Equal(EnrichedRowMapper.Columns.Length, wide.Length);
        Assert.Null(wide[EnrichedRowMapper.IpColumn]);
        Assert.Equal(IPAddress.Parse("::ffff:203.0.113.7"), narrow[EnrichedRowMapper.IpColumn]);
        Assert.Equal(
            narrow.Where((_, i) => i != EnrichedRowMapper.IpColumn),
            wide.Take(EventRowMapper.Columns.Length).Where((_, i) => i != EnrichedRowMapper.IpColumn));

        var copied = EnrichedRowMapper.ToRow(narrow, default, default, "session-1", ipv6);
        var filled = EnrichedRowMapper.ToRow(wide, default, default, "session-1", ipv6);
        var again = EnrichedRowMapper.ToRow(wide, default, default, "session-1", ipv6);

        Assert.NotSame(narrow, copied);
        Assert.Equal(EventRowMapper.Columns.Length, narrow.Length);
        Assert.Same(wide, filled);
        Assert.Same(wide, again);
        Assert.Equal(copied, filled);
        Assert.Equal("session-1", filled[Array.IndexOf(EnrichedRowMapper.Columns, "session_id")]);
        Assert.Equal("bing.com", filled[Array.IndexOf(EnrichedRowMapper.Columns, "referrer_host")]);
    }

    public static TheoryData<string, string> PoisonValues() => new()
    {
        { "this is not json", "undecodable" },
        { "null", "undecodable" },
        { "", "undecodable" },
        { """{"v":2,"event_id":"a","type":"pageview","site_id":"s","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z"}""", "unknown_version" },
        { """{"v":1,"event_id":"","type":"pageview","site_id":"s","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z"}""", "schema_invalid" },
        { """{"v":1,"event_id":"a","type":"teleport","site_id":"s","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z"}""", "unknown_type" },
        { """{"v":1,"event_id":"a","type":"pageview","site_id":"s","timestamp":"9999-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z"}""", "schema_invalid" },
        { """{"v":1,"event_id":"a","type":"pageview","site_id":"s","timestamp":"0001-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z"}""", "schema_invalid" },
    };

    [Theory]
    [MemberData(nameof(PoisonValues))]
    public void A_poison_message_gets_a_named_reason_and_no_row(string value, string reason)
    {
        var mapped = EventRowMapper.Map(Encoding.UTF8.GetBytes(value));

        Assert.True(mapped.IsPoison);
        Assert.Equal(reason, mapped.Reason);
        Assert.False(string.IsNullOrEmpty(mapped.Detail));
    }

    [Fact]
    public void A_message_of_another_schema_is_refused_by_its_header()
    {
        var mapped = EventRowMapper.Map(EventCodec.Encode(TestEvents.Pageviews(1)[0]), "insights.event.v9"u8);

        Assert.Equal("unknown_version", mapped.Reason);
    }
}
