using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Insights.EndToEnd.Tests.HostileInput;

/// <summary>One generated request: where it goes, what it carries, and what kind of hostility it is.</summary>
public sealed record HostileRequest(string Kind, string Path, byte[] Body, string? ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(Path, UriKind.Relative)) { Content = new ByteArrayContent(Body) };
        message.Content.Headers.ContentType = ContentType is null ? null : MediaTypeHeaderValue.Parse(ContentType);
        foreach (var (name, value) in Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return message;
    }
}

/// <summary>Keys and secrets of the site the storm is aimed at.</summary>
public sealed record StormSite(string Id, string WriteKey, string ServerKey, string ReadKey, string LiveChatSecret, string ShopifySecret, string WooCommerceSecret);

/// <summary>
/// Deterministic (seeded) hostile traffic for <c>POST /v1/events</c> and each webhook: mutated and truncated JSON, wrong
/// types, huge and tiny numbers, deep nesting, long non-ASCII ids, odd timestamps, oversize bodies, bad encodings,
/// forged sources, ids and keys, and the batch shape that once stalled every partition. Every event that could be
/// accepted carries an id no other request uses, so "accepted" and "stored" can be compared one for one.
/// </summary>
public sealed class HostileTraffic(StormSite site, int seed)
{
    private readonly Random random = new(seed);
    private long serial;

    private static readonly string[] Strings =
    [
        "", " ", "ж", "漢字テスト", "😀👩‍👩‍👧‍👦", "\u202Eevil\u202C", "\u0000", "a\u0000b", "'; DROP TABLE events; --", "{x:String}", "\\", "\"",
        "<script>alert(1)</script>", "%00%ff", "\ud7ff\ue000", "null", "true", "0", "-1", "1e309", "NaN", "\t\r\n", "ℌ𝔢𝔩𝔩𝔬",
        "4111 1111 1111 1111", "someone@example.com", "https://evil.example/?token=secret&email=a@b.c",
    ];

    private static readonly string[] Timestamps =
    [
        "2026-12-04T10:00:00Z", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-02-30T00:00:00Z",
        "yesterday", "", "2026-12-04T10:00:00+25:00", "2026-12-04", "1733300000", "-62135596800",
    ];

    private static readonly string[] ValidTypes = ["pageview", "page", "track", "identify"];

    public IEnumerable<HostileRequest> Generate(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return random.Next(100) switch
            {
                < 14 => ValidButStrange(),
                < 24 => Mutated(),
                < 32 => WrongTypes(),
                < 37 => Numbers(),
                < 40 => DeepNesting(),
                < 41 => Oversize(),
                < 46 => BadEncoding(),
                < 53 => Forged(),
                < 54 => StallShape(),
                < 58 => BadKeys(),
                < 62 => BadEnvelope(),
                < 75 => Shopify(),
                < 88 => WooCommerce(),
                _ => LiveChat(),
            };
        }
    }

    private string Unique(string prefix) => $"{prefix}-{seed}-{Interlocked.Increment(ref serial)}";

    private string AnyString() => random.Next(8) == 0 ? Long() : Strings[random.Next(Strings.Length)];

    private string Long()
    {
        var alphabet = random.Next(3) switch { 0 => "ж", 1 => "漢", _ => "😀" };
        var length = random.Next(1, 300);
        var builder = new StringBuilder(length * 2);
        for (var i = 0; i < length; i++)
        {
            builder.Append(alphabet);
        }

        return builder.ToString();
    }

    private static string Cut(string text, int length) => text.Length <= length ? text : text[..length];

    /// <summary>An id the ingest accepts (at most 256 characters) that is unique in the run, with hostile characters.</summary>
    private string Id(string prefix)
    {
        var id = Unique(prefix) + random.Next(4) switch { 0 => "-ж漢😀", 1 => "-'\";--", 2 => "-" + new string('ж', random.Next(0, 200)), _ => "" };
        return Cut(id, 256);
    }

    private JsonObject ValidEvent(string? visitor = null, string? timestamp = null)
    {
        var type = ValidTypes[random.Next(ValidTypes.Length)];
        var e = new JsonObject
        {
            ["type"] = type,
            ["messageId"] = Id("m"),
            ["anonymousId"] = visitor ?? (random.Next(3) == 0 ? Cut(Unique("v") + Long(), 250) : Unique("v")),
            ["timestamp"] = timestamp ?? (random.Next(4) == 0 ? Timestamps[random.Next(4)] : DateTimeOffset.UtcNow.AddMinutes(-random.Next(0, 10_000)).ToString("O", CultureInfo.InvariantCulture)),
            ["context"] = new JsonObject
            {
                ["page"] = new JsonObject
                {
                    ["url"] = "https://shop.example/" + Uri.EscapeDataString(AnyString()) + "?utm_source=" + Uri.EscapeDataString(AnyString()),
                    ["title"] = AnyString(),
                    ["referrer"] = random.Next(2) == 0 ? "https://www.google.com/search?q=" + Uri.EscapeDataString(AnyString()) : AnyString(),
                },
                ["userAgent"] = AnyString(),
                ["locale"] = AnyString(),
            },
            ["properties"] = new JsonObject { [AnyString() is { Length: > 0 } k ? k : "k"] = AnyString(), ["n"] = random.Next() },
        };
        if (type == "track")
        {
            e["event"] = AnyString() is { Length: > 0 } name ? name : "clicked";
        }

        if (type == "identify")
        {
            e["traits"] = new JsonObject { ["email"] = random.Next(2) == 0 ? "person@example.com" : AnyString(), ["plan"] = AnyString() };
        }

        return e;
    }

    private HostileRequest Events(string kind, byte[] body, string? key = null, string contentType = "application/json", params KeyValuePair<string, string>[] extra)
    {
        var headers = new List<KeyValuePair<string, string>>(extra);
        if (key is not null)
        {
            headers.Add(new("X-Insights-Key", key));
        }

        return new HostileRequest(kind, "/v1/events", body, contentType, headers);
    }

    // Non-ASCII as raw UTF-8, as browsers and SDKs send it (the default would escape every such character as \uXXXX).
    private static readonly JsonSerializerOptions Raw = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static byte[] Utf8(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString(Raw));

    private JsonArray Batch(int max)
    {
        var batch = new JsonArray();
        for (var i = random.Next(1, max + 1); i > 0; i--)
        {
            batch.Add(ValidEvent());
        }

        return batch;
    }

    private HostileRequest ValidButStrange() => Events("valid-strange", Utf8(Batch(20)), random.Next(4) == 0 ? site.ServerKey : site.WriteKey);

    private HostileRequest Mutated()
    {
        var bytes = Utf8(Batch(5));
        var mutations = random.Next(1, 6);
        var list = bytes.ToList();
        for (var i = 0; i < mutations && list.Count > 0; i++)
        {
            var at = random.Next(list.Count);
            switch (random.Next(4))
            {
                case 0: list[at] = (byte)random.Next(256); break;
                case 1: list.RemoveAt(at); break;
                case 2: list.Insert(at, "{[\",:}]\\"u8[random.Next(8)]); break;
                default: list.RemoveRange(at, list.Count - at); break; // truncated
            }
        }

        return Events("mutated-json", [.. list], site.WriteKey);
    }

    private JsonNode? AnyJson(int depth = 0) => random.Next(depth > 2 ? 5 : 7) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(random.NextDouble() * Math.Pow(10, random.Next(-300, 300))),
        3 => JsonValue.Create(AnyString()),
        4 => JsonValue.Create(long.MinValue + random.Next()),
        5 => new JsonArray(AnyJson(depth + 1), AnyJson(depth + 1)),
        _ => new JsonObject { ["k"] = AnyJson(depth + 1), [AnyString() is { Length: > 0 } k ? k : "x"] = AnyJson(depth + 1) },
    };

    private HostileRequest WrongTypes()
    {
        var e = ValidEvent();
        string[] fields = ["type", "messageId", "anonymousId", "userId", "timestamp", "sentAt", "context", "properties", "event", "traits", "url", "source"];
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            e[fields[random.Next(fields.Length)]] = AnyJson();
        }

        // Whatever the mutation left, the id stays this request's own, so an accepted event is still countable.
        e["messageId"] = Id("wt");
        return Events("wrong-types", Utf8(random.Next(2) == 0 ? e : new JsonArray(e, ValidEvent())), site.WriteKey);
    }

    private HostileRequest Numbers()
    {
        string[] numbers = ["1e308", "-1e308", "1e-400", "123456789012345678901234567890", "-0", "0.0000000000000000000001", "9223372036854775808", "1E+9999"];
        var n = numbers[random.Next(numbers.Length)];
        var server = random.Next(2) == 0;
        var json = server
            ? $$"""{"type":"order","messageId":"{{Id("num")}}","orderId":"{{Unique("o")}}","anonymousId":"{{Unique("v")}}","total":{{n}},"currency":"USD"}"""
            : $$$"""{"type":"pageview","messageId":"{{{Id("num")}}}","anonymousId":"{{{Unique("v")}}}","timestamp":{{{n}}},"context":{"page":{"url":"https://shop.example/n"},"screen":{"width":{{{n}}},"height":{{{n}}}}},"properties":{"x":{{{n}}}}}""";
        return Events("numbers", Encoding.UTF8.GetBytes(json), server ? site.ServerKey : site.WriteKey);
    }

    private HostileRequest DeepNesting()
    {
        var depth = random.Next(2) == 0 ? random.Next(30, 70) : random.Next(1_000, 20_000);
        var json = new StringBuilder();
        json.Append($$"""{"type":"track","event":"deep","messageId":"{{Id("deep")}}","anonymousId":"{{Unique("v")}}","properties":""");
        json.Append(string.Concat(Enumerable.Repeat("{\"a\":[", depth)));
        json.Append('1');
        json.Append(string.Concat(Enumerable.Repeat("]}", depth)));
        json.Append('}');
        return Events("deep-nesting", Encoding.UTF8.GetBytes(json.ToString()), site.WriteKey);
    }

    private HostileRequest Oversize()
    {
        var filler = new string('x', random.Next(2) == 0 ? 40_000 : 600_000);
        var json = $$$"""[{"type":"track","event":"big","messageId":"{{{Id("big")}}}","anonymousId":"{{{Unique("v")}}}","properties":{"blob":"{{{filler}}}"}}]""";
        return Events("oversize", Encoding.UTF8.GetBytes(json), site.WriteKey);
    }

    private HostileRequest BadEncoding()
    {
        var valid = Utf8(ValidEvent());
        byte[] body = random.Next(4) switch
        {
            0 => [.. valid[..(valid.Length / 2)], 0xC3, 0x28, .. valid[(valid.Length / 2)..]], // invalid UTF-8
            1 => [0xEF, 0xBB, 0xBF, .. valid], // a byte-order mark
            2 => Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(valid)), // UTF-16
            _ => [.. valid[..(valid.Length / 3)], 0xF0, 0x82, 0x82, 0xAC, .. valid[(valid.Length / 3)..]], // overlong
        };
        return Events("bad-encoding", body, site.WriteKey);
    }

    private HostileRequest Forged()
    {
        var forgedIds = new[] { $"shopify:order:{Unique("f")}", $"woocommerce:order:{Unique("f")}", $"livechat:{Unique("f")}", $"pub:{Unique("f")}", $"srv:{Unique("f")}" };
        var e = random.Next(3) switch
        {
            0 => new JsonObject { ["type"] = "order", ["orderId"] = Unique("o"), ["total"] = 999999999, ["currency"] = "USD", ["anonymousId"] = Unique("v") },
            1 => new JsonObject { ["type"] = random.Next(2) == 0 ? "order_cancelled" : "order_refunded", ["orderId"] = Unique("o"), ["amount"] = 5, ["currency"] = "USD" },
            _ => new JsonObject { ["type"] = "chat_started", ["chatId"] = Unique("c"), ["anonymousId"] = Unique("v") },
        };
        e["messageId"] = forgedIds[random.Next(forgedIds.Length)];
        e["source"] = random.Next(2) == 0 ? "shopify" : "tracker";
        var publicKey = random.Next(4) != 0;
        return Events(publicKey ? "forged-public" : "forged-server", Utf8(new JsonArray(e, ValidEvent())), publicKey ? site.WriteKey : site.ServerKey);
    }

    /// <summary>500 page views with 250-character non-ASCII visitor ids, 6 days old: the lookups they cause once stalled every partition.</summary>
    private HostileRequest StallShape()
    {
        var batch = new JsonArray();
        var old = DateTimeOffset.UtcNow.AddDays(-6).ToString("O", CultureInfo.InvariantCulture);
        for (var i = 0; i < 500; i++)
        {
            var visitor = Unique("s") + new string('ж', 250);
            batch.Add(new JsonObject
            {
                ["type"] = "pageview",
                ["messageId"] = Unique("stall"),
                ["anonymousId"] = visitor[..250],
                ["timestamp"] = old,
                ["context"] = new JsonObject { ["page"] = new JsonObject { ["url"] = "https://shop.example/stall" } },
            });
        }

        return Events("stall-shape", Utf8(batch), site.WriteKey);
    }

    private HostileRequest BadKeys()
    {
        var body = Utf8(ValidEvent());
        return random.Next(6) switch
        {
            0 => Events("no-key", body),
            1 => Events("unknown-key", body, "not-a-key-" + Unique("k")),
            2 => Events("read-key", body, site.ReadKey),
            3 => new HostileRequest("server-key-in-url", $"/v1/events?key={site.ServerKey}", body, "application/json", []),
            4 => new HostileRequest("read-key-in-url", $"/v1/events?key={site.ReadKey}", body, "application/json", []),
            _ => Events("basic-garbage", body, null, "application/json", KeyValuePair.Create("Authorization", "Basic " + (random.Next(2) == 0 ? Convert.ToBase64String(Encoding.UTF8.GetBytes(AnyString() + ":x")) : "!!not-base64=="))),
        };
    }

    private HostileRequest BadEnvelope() => random.Next(6) switch
    {
        0 => Events("empty-body", [], site.WriteKey),
        1 => Events("wrong-content-type", Utf8(ValidEvent()), site.WriteKey, "image/png"),
        2 => Events("gzip-claimed", Utf8(ValidEvent()), site.WriteKey, "application/json", KeyValuePair.Create("Content-Encoding", "gzip")),
        3 => Events("ndjson-garbage", Encoding.UTF8.GetBytes(Utf8(ValidEvent()).Length + "\n{\n" + Encoding.UTF8.GetString(Utf8(ValidEvent())) + "\n\u0000\n"), site.WriteKey, "application/x-ndjson"),
        4 => Events("segment-batch", Utf8(new JsonObject { ["batch"] = Batch(5), ["sentAt"] = AnyString() }), site.WriteKey),
        _ => Events("scalar-json", Encoding.UTF8.GetBytes(random.Next(2) == 0 ? "42" : "\"x\""), site.WriteKey),
    };

    // ---- Webhooks: real platform shapes with unique ids, then signed correctly, signed after mutation, or forged.

    private static JsonObject Fixture(string name) =>
        JsonNode.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "webhooks", name)))!.AsObject();

    private static string Hmac(byte[] body, string secret) => Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private (byte[] Body, string Kind) Sabotage(JsonObject body, string kind)
    {
        switch (random.Next(10))
        {
            case 0 or 1:
                // A field of the wrong type, still signed: the mapper must answer 400, not 500.
                var keys = body.Select(p => p.Key).ToArray();
                body[keys[random.Next(keys.Length)]] = AnyJson();
                return (Utf8(body), kind + "-wrong-type");
            case 2:
                var bytes = Utf8(body);
                return (bytes[..random.Next(bytes.Length)], kind + "-truncated");
            default:
                return (Utf8(body), kind);
        }
    }

    private HostileRequest Shopify()
    {
        var n = 9_000_000_000L + Interlocked.Increment(ref serial) + (seed * 1_000_000L);
        string topic;
        JsonObject body;
        switch (random.Next(4))
        {
            case 0 or 1:
                topic = "orders/create";
                body = Fixture("shopify/orders_create.json");
                body["id"] = n;
                break;
            case 2:
                topic = random.Next(2) == 0 ? "orders/cancelled" : "orders/paid";
                body = Fixture(random.Next(2) == 0 ? "shopify/orders_cancelled.json" : "shopify/orders_create.json"); // a topic/body mismatch half the time
                body["id"] = n;
                break;
            default:
                topic = "refunds/create";
                body = Fixture("shopify/refunds_create.json");
                body["id"] = n;
                body["order_id"] = n + 1;
                break;
        }

        var (bytes, kind) = Sabotage(body, "shopify");
        var headers = new List<KeyValuePair<string, string>> { new("X-Shopify-Topic", topic), new("X-Shopify-Webhook-Id", Unique("wh")) };
        switch (random.Next(8))
        {
            case 0: kind += "-unsigned"; break;
            case 1: kind += "-forged"; headers.Add(new("X-Shopify-Hmac-Sha256", Hmac(bytes, "not-the-secret"))); break;
            default: headers.Add(new("X-Shopify-Hmac-Sha256", Hmac(bytes, site.ShopifySecret))); break;
        }

        return new HostileRequest(kind, $"/v1/webhooks/shopify/{site.Id}", bytes, "application/json", headers);
    }

    private HostileRequest WooCommerce()
    {
        var body = Fixture(random.Next(2) == 0 ? "woocommerce/order_created.json" : "woocommerce/order_updated_refunded.json");
        body["id"] = 700_000_000L + Interlocked.Increment(ref serial) + (seed * 1_000_000L);
        foreach (var refund in body["refunds"] as JsonArray ?? [])
        {
            refund!["id"] = 800_000_000L + Interlocked.Increment(ref serial) + (seed * 1_000_000L); // refund events are keyed by the refund's id
        }
        var topic = random.Next(3) == 0 ? "order.updated" : "order.created";
        var (bytes, kind) = Sabotage(body, "woocommerce");
        var headers = new List<KeyValuePair<string, string>> { new("X-WC-Webhook-Topic", topic), new("X-WC-Webhook-Resource", "order"), new("X-WC-Webhook-Event", topic[6..]), new("X-WC-Webhook-Delivery-ID", Unique("d")) };
        switch (random.Next(8))
        {
            case 0: kind += "-unsigned"; break;
            case 1: kind += "-forged"; headers.Add(new("X-WC-Webhook-Signature", Hmac(bytes, "not-the-secret"))); break;
            default: headers.Add(new("X-WC-Webhook-Signature", Hmac(bytes, site.WooCommerceSecret))); break;
        }

        return new HostileRequest(kind, $"/v1/webhooks/woocommerce/{site.Id}", bytes, "application/json", headers);
    }

    private HostileRequest LiveChat()
    {
        // Events whose ids come from the chat's thread (which each request makes its own); incoming_chat also keys a
        // customer's identify by the customer, which several requests would share.
        var body = Fixture(random.Next(2) == 0 ? "livechat/incoming_event_message.json" : "livechat/chat_deactivated.json");
        body["webhook_id"] = Unique("lcw");
        var payload = body["payload"]!.AsObject();
        payload["chat_id"] = Unique("chat").Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        payload["thread_id"] = Unique("thread").Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();

        var kind = "livechat";
        switch (random.Next(8))
        {
            case 0: body.Remove("secret_key"); kind += "-no-secret"; break;
            case 1: body["secret_key"] = "not-the-secret"; kind += "-forged"; break;
            case 2: body["secret_key"] = AnyJson(); kind += "-secret-wrong-type"; break;
            default: body["secret_key"] = site.LiveChatSecret; break;
        }

        var (bytes, sabotaged) = Sabotage(body, kind);
        return new HostileRequest(sabotaged, $"/v1/webhooks/livechat/{site.Id}", bytes, "application/json", []);
    }
}
