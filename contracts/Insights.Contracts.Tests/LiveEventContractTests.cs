using System.Text;
using System.Text.Json;
using Insights.Contracts;

namespace Insights.Contracts.Tests;

/// <summary>
/// The <c>insights.enriched</c> event schema v1 (in messages of schema insights.live.v2: one event per line) as readers see
/// it on the wire. A renamed, dropped or retyped field breaks
/// every presence reader deployed: this test fails first, and the fix is a new version, not an edit here.
/// </summary>
public sealed class LiveEventContractTests
{
    // Every v1 field and its JSON kind, as docs/live.md documents them.
    private const string V1Wire = """
        {"v":1,"event_id":"e1","type":"pageview","name":"Pricing","site_id":"demo","visitor_id":"v1","user_id":"u1",
         "timestamp":"2026-11-18T08:00:00+00:00","received_at":"2026-11-18T08:00:01+00:00",
         "visit":{"session_id":"s1","started_at":"2026-11-18T07:50:00+00:00","page_views":3,"channel":"paid",
                  "landing_referrer":"https://www.google.com/",
                  "campaign":{"source":"google","medium":"cpc","name":"spring","term":"crm","content":"ad1"}},
         "url":"https://shop.example/pricing?x=1","path":"/pricing","title":"Preise — 価格","referrer":"https://shop.example/",
         "campaign":{"source":"google","medium":"cpc","name":"spring","term":"crm","content":"ad1"},
         "company":{"id":"acme-1a2b3c4d","name":"Acme","domain":"acme.example"},
         "geo":{"country":"DE","region":"Berlin","city":"Berlin"},
         "device":{"type":"desktop","browser":"Chrome","os":"Windows"},
         "ip":"203.0.113.0","user_agent":"Mozilla/5.0","chat_id":"c1","amount":49.90,"currency":"EUR","engaged_ms":1200,
         "invitation":{"id":"r-1a2b","rule":"pricing","message":"Can we help?"},"properties":{"plan":"enterprise"}}
        """;

    internal static readonly LiveEvent Full = new()
    {
        EventId = "e1", Type = EventTypes.Pageview, Name = "Pricing", SiteId = "demo", VisitorId = "v1", UserId = "u1",
        Timestamp = new DateTimeOffset(2026, 11, 18, 8, 0, 0, TimeSpan.Zero), ReceivedAt = new DateTimeOffset(2026, 11, 18, 8, 0, 1, TimeSpan.Zero),
        Visit = new LiveVisit("s1", new DateTimeOffset(2026, 11, 18, 7, 50, 0, TimeSpan.Zero), 3, "paid", "https://www.google.com/",
            new LiveCampaign("google", "cpc", "spring", "crm", "ad1")),
        Url = "https://shop.example/pricing?x=1", Path = "/pricing", Title = "Preise — 価格", Referrer = "https://shop.example/",
        Campaign = new LiveCampaign("google", "cpc", "spring", "crm", "ad1"),
        Company = new LiveCompany("acme-1a2b3c4d", "Acme", "acme.example"),
        Geo = new LiveGeo("DE", "Berlin", "Berlin"),
        Device = new LiveDevice("desktop", "Chrome", "Windows"),
        Ip = "203.0.113.0", UserAgent = "Mozilla/5.0", ChatId = "c1", Amount = 49.90m, Currency = "EUR", EngagedMs = 1200,
        Invitation = new LiveInvitation("r-1a2b", "pricing", "Can we help?"),
        Properties = new Dictionary<string, string> { ["plan"] = "enterprise" },
    };

    [Fact]
    public void Every_v1_field_keeps_its_name_and_kind_on_the_wire()
    {
        var expected = Shape(JsonDocument.Parse(V1Wire).RootElement);
        var actual = Shape(JsonDocument.Parse(LiveEventCodec.Encode(Full)).RootElement);

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void A_v1_message_written_by_an_older_producer_still_decodes_to_the_same_event()
    {
        var decoded = LiveEventCodec.Decode(Encoding.UTF8.GetBytes(V1Wire));

        Assert.Null(decoded.Reason);
        Assert.Equal(Full, decoded.Event! with { Visit = Full.Visit, Campaign = Full.Campaign, Properties = Full.Properties });
        Assert.Equal(Full.Properties, decoded.Event!.Properties);
        Assert.Equal(Full.Visit, decoded.Event!.Visit);
        Assert.Equal(Full.Campaign, decoded.Event.Campaign);
    }

    [Fact]
    public void Unused_fields_are_left_out_and_non_ascii_stays_utf8()
    {
        var minimal = new LiveEvent
        {
            EventId = "e2", Type = EventTypes.ChatStarted, SiteId = "demo", Title = "Tarife «neu» & <mehr>",
            Timestamp = DateTimeOffset.UnixEpoch, ReceivedAt = DateTimeOffset.UnixEpoch,
        };
        var wire = Encoding.UTF8.GetString(LiveEventCodec.Encode(minimal));

        Assert.Equal(["v", "event_id", "type", "site_id", "timestamp", "received_at", "title"],
            JsonDocument.Parse(wire).RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Contains("Tarife «neu» & <mehr>", wire, StringComparison.Ordinal);
        Assert.Equal("insights.live.v2", Encoding.ASCII.GetString(LiveEventCodec.SchemaValue));
    }

    [Theory]
    [InlineData("not json", "undecodable")]
    [InlineData("null", "undecodable")]
    [InlineData("""{"v":2,"event_id":"e","type":"pageview","site_id":"s","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z"}""", "unknown_version")]
    [InlineData("""{"v":1,"event_id":"","type":"pageview","site_id":"s","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z"}""", "schema_invalid")]
    [InlineData("""{"v":1,"event_id":"e","type":"pageview","site_id":"s"}""", "undecodable")]
    [InlineData("""{"v":1,"event_id":"e","type":"pageview","site_id":"s","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z","geo":"DE"}""", "undecodable")]
    public void Malformed_messages_are_refused_with_a_reason_not_an_exception(string value, string reason) =>
        Assert.Equal(reason, LiveEventCodec.Decode(Encoding.UTF8.GetBytes(value)).Reason);

    [Fact]
    public void A_bundle_is_cut_at_its_byte_limit_and_gives_back_every_event_in_order_line_by_line()
    {
        // Newlines, a separator-looking "\n" and non-ASCII inside strings: JSON escapes a raw newline, so lines still split.
        var events = Enumerable.Range(0, 120).Select(i => Full with
        {
            EventId = $"e{i:D3}", Title = i % 3 == 0 ? $"line one\nline two {i}" : "Preise — 価格 \\n", VisitorId = $"v{i % 7}",
        }).ToList();
        var bundle = new LiveEventBundle(4096);
        var messages = new List<byte[]>();
        foreach (var e in events)
        {
            if (bundle.Add(e) is { } full)
            {
                messages.Add(full);
            }
        }

        messages.Add(bundle.Complete()!);
        Assert.Null(bundle.Complete());

        var oneLength = LiveEventCodec.Encode(Full).Length;
        Assert.InRange(messages.Count, 120 * oneLength / 4096, 120 / 2);
        Assert.All(messages, m => Assert.InRange(m.Length, oneLength, 4096));
        var decoded = messages.SelectMany(m => DecodeLines(m).Select(r => r.Event!)).ToList();
        Assert.Equal(events.Select(e => (e.EventId, e.Title)), decoded.Select(e => (e.EventId, e.Title)));
        // A bundle of one event is the event's own encoding: a reader of bundles reads single-event messages too.
        var single = new LiveEventBundle(4096);
        Assert.Null(single.Add(Full));
        Assert.Equal(LiveEventCodec.Encode(Full), single.Complete());
    }

    [Fact]
    public void An_event_larger_than_the_limit_goes_out_alone_between_its_neighbours()
    {
        var bundle = new LiveEventBundle(2048);
        var big = Full with { EventId = "big", Title = new string('x', 5000) };

        Assert.Null(bundle.Add(Full with { EventId = "a" }));
        var first = bundle.Add(big);
        var second = bundle.Add(Full with { EventId = "b" });
        var third = bundle.Complete();

        Assert.Equal(["a"], Ids(first!));
        Assert.Equal(["big"], Ids(second!));
        Assert.True(second!.Length > 5000);
        Assert.Equal(["b"], Ids(third!));
    }

    [Fact]
    public void A_bad_line_is_refused_with_its_reason_and_its_neighbours_still_decode()
    {
        var value = Encoding.UTF8.GetBytes(
            Encoding.UTF8.GetString(LiveEventCodec.Encode(Full with { EventId = "a" })) + "\n{not json\n\n" +
            """{"v":9,"event_id":"x","type":"pageview","site_id":"s","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z"}""" + "\n" +
            Encoding.UTF8.GetString(LiveEventCodec.Encode(Full with { EventId = "b" })) + "\n");

        Assert.Equal([("a", null), (null, "undecodable"), (null, "unknown_version"), ("b", null)],
            DecodeLines(value).Select(r => (r.Event?.EventId, r.Reason)));
        Assert.Empty(DecodeLines("\n\n"u8));
    }

    private static List<string> Ids(byte[] message) => [.. DecodeLines(message).Select(r => r.Event!.EventId)];

    // A message's lines decoded one by one, as the presence reader does.
    private static List<LiveDecodeResult> DecodeLines(ReadOnlySpan<byte> message)
    {
        var results = new List<LiveDecodeResult>();
        foreach (var line in LiveEventCodec.Lines(message))
        {
            results.Add(LiveEventCodec.Decode(line));
        }

        return results;
    }

    // The names and JSON kinds of every property, nested ones as "parent.child".
    private static List<string> Shape(JsonElement element, string prefix = "")
    {
        var shape = new List<string>();
        foreach (var property in element.EnumerateObject())
        {
            var name = prefix + property.Name;
            shape.Add($"{name}:{property.Value.ValueKind}");
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                shape.AddRange(Shape(property.Value, name + "."));
            }
        }

        shape.Sort(StringComparer.Ordinal);
        return shape;
    }
}
