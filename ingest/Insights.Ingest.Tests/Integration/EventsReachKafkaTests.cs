using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Integration;

/// <summary>What a 202 promises: the accepted events are on Kafka, keyed, with headers, stamped, and nothing else is.</summary>
public sealed class EventsReachKafkaTests(DevStackFixture stack)
{
    [Fact]
    public async Task Accepted_events_are_on_kafka_keyed_by_site_and_visitor_and_stamped_by_ingest()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);
        var before = DateTimeOffset.UtcNow;

        var response = await host.PostAsync("""
            [
              {"type":"pageview","messageId":"pv-1","anonymousId":"visitor-1","timestamp":"2020-01-01T00:00:00Z",
               "context":{"page":{"url":"https://shop.example/pricing?utm_source=news&utm_medium=email","title":"Pricing"},"locale":"en-GB",
                          "ip":"8.8.8.8","userAgent":"forged"}},
              {"type":"track","anonymousId":"visitor-1"},
              {"type":"track","messageId":"tr-1","event":"Chat Started","anonymousId":"visitor-1","properties":{"agent":"ann","value":12.5}},
              {"type":"track","messageId":"tr-2","event":"Signed Up","userId":"customer-9"}
            ]
            """, configure: request =>
        {
            request.Headers.UserAgent.ParseAdd("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0");
            request.Headers.Add("X-Forwarded-For", "6.6.6.6");
        });

        var body = await Answer.AcceptedAsync(response, 3);
        Assert.Equal([(1, RejectReasons.MissingEventName)], Answer.Rejections(body));

        var messages = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 3).ToDictionary(m => m.Event.EventId);
        // A write key's messageIds are stored in its namespace.
        Assert.Equal(["pub:pv-1", "pub:tr-1", "pub:tr-2"], messages.Keys.Order());

        var pageview = messages["pub:pv-1"];
        Assert.Equal("demo:visitor-1", pageview.Key);
        // No headers: the value names its version and type (EventCodec.ToMessage).
        Assert.Empty(pageview.Headers);
        var e = pageview.Event;
        Assert.Equal(("demo", EventTypes.Pageview, "https://shop.example/pricing?utm_source=news&utm_medium=email", "Pricing", "en-GB"),
            (e.SiteId, e.Type, e.Url, e.Title, e.Locale));
        Assert.Equal(("news", "email"), (e.UtmSource, e.UtmMedium));
        // A write key is public: the peer address and the request's User-Agent, not what the body or a header claims.
        Assert.Equal("127.0.0.1", e.Ip);
        Assert.Equal("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", e.UserAgent);
        // A timestamp from 2020 is implausible: clamped to the receive time, and marked.
        Assert.True(e.TimestampClamped);
        Assert.Equal(e.ReceivedAt, e.Timestamp);
        Assert.InRange(e.ReceivedAt, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));

        var chat = messages["pub:tr-1"];
        Assert.Equal(("demo:visitor-1", "track", "Chat Started"), (chat.Key, chat.Event.Type, chat.Event.Name));
        Assert.Equal("""{"agent":"ann","value":12.5}""", chat.Event.Properties?.GetRawText());
        Assert.Equal("demo:customer-9", messages["pub:tr-2"].Key);
    }

    [Fact]
    public async Task Ndjson_basic_auth_and_beacons_with_a_query_key_all_deliver()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);

        var ndjson = await host.PostAsync(
            "{\"type\":\"track\",\"event\":\"a\",\"anonymousId\":\"v\",\"messageId\":\"nd-1\"}\n{\"type\":\"track\",\"event\":\"b\",\"anonymousId\":\"v\",\"messageId\":\"nd-2\"}\n",
            key: null, contentType: "application/x-ndjson",
            configure: request => request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(IngestHost.WriteKey + ":"))));
        await Answer.AcceptedAsync(ndjson, 2);

        // navigator.sendBeacon(url + "?key=...", JSON.stringify(events)) sends text/plain and cannot set headers.
        var beacon = await host.PostAsync("""{"type":"page","anonymousId":"v","messageId":"beacon-1","url":"https://shop.example/"}""",
            key: null, contentType: "text/plain;charset=UTF-8", path: $"/v1/events?key={IngestHost.WriteKey}");
        await Answer.AcceptedAsync(beacon, 1);

        var ids = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 3).Select(m => m.Event.EventId).Order();
        Assert.Equal(["pub:beacon-1", "pub:nd-1", "pub:nd-2"], ids);
    }

    [Fact]
    public async Task A_retried_batch_carries_the_same_event_ids_so_storage_counts_it_once()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);
        const string batch = """[{"type":"track","event":"Order Completed","anonymousId":"v","messageId":"order-77"}]""";

        await Answer.AcceptedAsync(await host.PostAsync(batch), 1);
        await Answer.AcceptedAsync(await host.PostAsync(batch), 1);

        var messages = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 2);
        Assert.All(messages, m => Assert.Equal("pub:order-77", m.Event.EventId));
        Assert.Single(messages.Select(m => m.Key).Distinct());
    }

    [Fact]
    public async Task A_server_key_sends_on_behalf_of_a_visitor_with_their_ip_and_user_agent()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);

        var response = await host.PostAsync("""
            {"type":"track","event":"Order Completed","anonymousId":"v","messageId":"srv-1",
             "context":{"ip":"2001:db8::42","userAgent":"Visitor's Safari"}}
            """, key: IngestHost.ServerKey);

        await Answer.AcceptedAsync(response, 1);
        var e = Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1)).Event;
        Assert.Equal(("2001:db8::42", "Visitor's Safari"), (e.Ip, e.UserAgent));
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_the_forwarded_client_address_is_stamped()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap, new Dictionary<string, string?> { ["Ingest:TrustedProxies:0"] = "127.0.0.0/8" });

        var response = await host.PostAsync("""{"type":"track","event":"x","anonymousId":"v"}""",
            configure: request => request.Headers.Add("X-Forwarded-For", "6.6.6.6, 198.51.100.23"));

        await Answer.AcceptedAsync(response, 1);
        Assert.Equal("198.51.100.23", Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1)).Event.Ip);
    }

    [Fact]
    public async Task Hostile_strings_reach_kafka_as_untouched_data()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);
        var hostile = new Dictionary<string, string>
        {
            ["sql"] = "'); DROP TABLE events; SELECT * FROM system.users WHERE '1'='1",
            ["clickhouse"] = "x' FORMAT TabSeparated SETTINGS max_threads=1 --\n\t\\N",
            ["controls"] = "\u0000\u0001\u001b[2J\u0007\r\n\u007f\u0085\u2028\u2029",
            ["unicode"] = "\u202Eevil\u202C \U0001F4A9 \uFEFF \uFFFF e\u0301",
            ["html"] = "<img src=x onerror=alert(1)>",
            ["huge"] = new string('\u00e9', 13_000),
        };
        // Non-ASCII as UTF-8, as browsers send it (the default encoder would escape every é into 6 bytes).
        var raw = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        var properties = JsonSerializer.Serialize(hostile, raw);
        var name = hostile["sql"];
        var json = $$"""{"type":"track","event":{{JsonSerializer.Serialize(name, raw)}},"anonymousId":{{JsonSerializer.Serialize(hostile["controls"], raw)}},"properties":{{properties}}}""";

        await Answer.AcceptedAsync(await host.PostAsync(json), 1);

        var e = Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1)).Event;
        Assert.Equal(name, e.Name);
        Assert.Equal(hostile["controls"], e.AnonymousId);
        foreach (var (field, value) in hostile)
        {
            Assert.Equal(value, e.Properties!.Value.GetProperty(field).GetString());
        }

        Assert.Equal(System.Net.HttpStatusCode.OK, (await host.Client.GetAsync("/healthz", TestContext.Current.CancellationToken)).StatusCode);
    }
}
