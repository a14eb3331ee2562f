using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Insights.Ingest.Admission;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Integration;

/// <summary>
/// A user of a Segment-compatible SDK changes only the host: the real <c>@segment/analytics-node</c> and
/// <c>@rudderstack/rudder-sdk-node</c> (installed by
/// scripts/setup.sh) with its default path, Segment's single-call routes, the key in the body, and gzip bodies.
/// </summary>
public sealed class SegmentCompatibilityTests(DevStackFixture stack)
{
    [Fact]
    public async Task The_official_node_sdk_with_only_the_host_changed_delivers_every_call()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);
        var run = Guid.NewGuid().ToString("N")[..8];

        var output = await SegmentSdks.RunAsync("send.cjs", host.Client.BaseAddress!.ToString().TrimEnd('/'), IngestHost.WriteKey, run);

        // The SDK's own path, answered with Segment's 200 (after Kafka acknowledged), and no error.
        Assert.Contains("\"request\":\"" + host.Client.BaseAddress.ToString().TrimEnd('/') + "/v1/batch\"", output, StringComparison.Ordinal);
        Assert.Contains("\"status\":200", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\"error\"", output, StringComparison.Ordinal);

        var events = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 6).Select(m => m.Event).ToDictionary(e => e.Type);
        Assert.Equal(["alias", "group", "identify", "pageview", "screen", "track"], events.Keys.Order(StringComparer.Ordinal));
        Assert.All(events.Values, e => Assert.StartsWith(Trust.PublicIdPrefix, e.EventId, StringComparison.Ordinal));

        var track = events[EventTypes.Track];
        Assert.Equal(("Signed Up", $"anon-{run}"), (track.Name, track.AnonymousId));
        Assert.Equal("""{"plan":"Pro","seats":3}""", track.Properties?.GetRawText());

        // A server-side page call's name is kept; its URL came in the properties.
        var page = events[EventTypes.Pageview];
        Assert.Equal(("Pricing", $"user-{run}", "https://example.com/pricing?utm_source=sdk", "Pricing", "sdk"),
            (page.Name, page.UserId, page.Url, page.Title, page.UtmSource));
        Assert.Equal("Docs", page.Properties?.GetProperty("category").GetString());

        var identify = events[EventTypes.Identify];
        Assert.Equal($"user-{run}", identify.UserId);
        Assert.Equal("Zoë Example", identify.Properties?.GetProperty("name").GetString());

        var group = events[EventTypes.Group];
        Assert.Equal($"user-{run}", group.UserId);
        Assert.Equal($$"""{"groupId":"acme-{{run}}","name":"Acme Inc.","employees":42}""", group.Properties?.GetRawText());

        var alias = events[EventTypes.Alias];
        Assert.Equal(($"anon-{run}", $"user-{run}"), (alias.PreviousId, alias.UserId));

        var screen = events[EventTypes.Screen];
        Assert.Equal(("Settings", $"user-{run}", (string?)null), (screen.Name, screen.UserId, screen.Url));
        Assert.Equal("billing", screen.Properties?.GetProperty("tab").GetString());
    }

    [Fact]
    public async Task Single_call_routes_imply_their_type_and_take_the_write_key_from_the_body()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);

        // No header at all: Segment's browser SDK sends the key as "writeKey".
        var track = await host.PostAsync($$"""{"writeKey":"{{IngestHost.WriteKey}}","messageId":"t-1","anonymousId":"a-1","event":"Clicked"}""",
            key: null, path: "/v1/track");
        var body = await Answer.JsonAsync(track);
        Assert.True(track.StatusCode == HttpStatusCode.OK, body.ToString());
        Assert.True(body.GetProperty("success").GetBoolean());
        Assert.Equal(1, body.GetProperty("accepted").GetInt32());

        var page = await host.PostAsync("""{"messageId":"p-1","userId":"u-1","name":"Pricing","properties":{"url":"https://example.com/pricing"}}""",
            path: "/v1/page");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        // A type the route does not take is refused for that event, by name.
        var wrong = await host.PostAsync("""{"type":"track","anonymousId":"a-1","event":"X"}""", path: "/v1/page");
        var refused = await Answer.ProblemAsync(wrong, 400, RejectReasons.InvalidField);
        Assert.Contains("/v1/batch", refused.GetProperty("rejected")[0].GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The trust rules hold on every route: a public key's order is refused, and an unknown body key is 401.
        var order = await host.PostAsync("""{"batch":[{"type":"order","orderId":"o-1","total":5,"currency":"EUR","anonymousId":"a-1"}]}""", path: "/v1/batch");
        await Answer.ProblemAsync(order, 400, RejectReasons.NeedsServerKey);
        var unknown = await host.PostAsync("""{"writeKey":"nobody","anonymousId":"a-1","event":"X"}""", key: null, path: "/v1/track");
        await Answer.ProblemAsync(unknown, 401, RejectReasons.UnknownKey);
        var none = await host.PostAsync("""{"anonymousId":"a-1","event":"X"}""", key: null, path: "/v1/track");
        await Answer.ProblemAsync(none, 401, RejectReasons.MissingKey);

        // An alias without previousId, a group without groupId: refused with their reasons.
        var alias = await host.PostAsync("""{"userId":"u-1"}""", path: "/v1/alias");
        await Answer.ProblemAsync(alias, 400, TypeRejectReasons.MissingPreviousId);
        var group = await host.PostAsync("""{"userId":"u-1","traits":{"name":"Acme"}}""", path: "/v1/group");
        await Answer.ProblemAsync(group, 400, TypeRejectReasons.MissingGroupId);

        var events = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 2).ToDictionary(m => m.Event.EventId, m => m.Event);
        Assert.Equal(["pub:p-1", "pub:t-1"], events.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((EventTypes.Track, "Clicked"), (events["pub:t-1"].Type, events["pub:t-1"].Name));
        Assert.Equal((EventTypes.Pageview, "Pricing"), (events["pub:p-1"].Type, events["pub:p-1"].Name));
    }

    [Fact]
    public async Task Gzip_bodies_are_inflated_and_a_zip_bomb_is_refused_without_inflating_it()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);
        var gzipped = Gzip(Encoding.UTF8.GetBytes("""{"batch":[{"type":"track","messageId":"g-1","anonymousId":"a-1","event":"Zipped ✓"}]}"""));

        var accepted = await host.PostAsync(gzipped, path: "/v1/batch", configure: r => r.Content!.Headers.ContentEncoding.Add("gzip"));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);

        // 100 MB of zeros is about 100 KB compressed: under the request limit, but it inflates far past it.
        var bomb = Gzip(new byte[100 * 1024 * 1024]);
        Assert.InRange(bomb.Length, 1, 500 * 1024);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var exploded = await host.PostAsync(bomb, path: "/v1/events", configure: r => r.Content!.Headers.ContentEncoding.Add("gzip"));
        await Answer.ProblemAsync(exploded, 413, RejectReasons.BodyTooLarge);
        // The host shares this process: it allocated nowhere near the 100 MB the bomb inflates to.
        Assert.InRange(GC.GetTotalAllocatedBytes(precise: true) - allocated, 0, 20L * 1024 * 1024);

        var garbage = await host.PostAsync("not gzip at all"u8.ToArray(), path: "/v1/batch", configure: r => r.Content!.Headers.ContentEncoding.Add("gzip"));
        await Answer.ProblemAsync(garbage, 400, RejectReasons.UnreadableBody);
        var brotli = await host.PostAsync(gzipped, path: "/v1/batch", configure: r => r.Content!.Headers.ContentEncoding.Add("br"));
        await Answer.ProblemAsync(brotli, 415, RejectReasons.UnsupportedMediaType);

        var message = Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1));
        Assert.Equal(("pub:g-1", "Zipped ✓"), (message.Event.EventId, message.Event.Name));
    }

    [Fact]
    public async Task RudderStacks_node_sdk_with_its_default_path_and_gzip_bodies_delivers_a_server_journey_with_the_server_keys_rights()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);
        var run = Guid.NewGuid().ToString("N")[..8];

        var output = await SegmentSdks.RunAsync("journey.cjs", host.Client.BaseAddress!.ToString().TrimEnd('/'), IngestHost.WriteKey, IngestHost.ServerKey, run);
        Assert.DoesNotContain("\"error\"", output, StringComparison.Ordinal);
        Assert.Contains("\"sdk\":\"rudderstack\",\"status\":200", output, StringComparison.Ordinal);
        Assert.Contains("\"sdk\":\"segment\",\"status\":200", output, StringComparison.Ordinal);

        var events = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 9).Select(m => m.Event).ToList();
        var byName = events.Where(e => e.Name is not null).ToDictionary(e => (e.Type, e.Name!));
        Assert.Equal(9, events.Count);

        // The browser's calls rode the public write key, the back end's the server key: their ids say so. The back
        // end's group names the browser's anonymous id (the account it vouches for is that visitor's).
        var browser = events.Where(e => e.EventId.StartsWith(Trust.PublicIdPrefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(4, browser.Count);
        Assert.All(browser, e => Assert.Equal($"anon-{run}", e.AnonymousId));
        var server = events.Where(e => e.EventId.StartsWith(Trust.ServerIdPrefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(5, server.Count);
        Assert.Equal(4, server.Count(e => e.UserId == $"user-{run}"));

        // A page's category and a screen's are kept beside the client's own properties; a track's revenue stays in its properties.
        var pricing = byName[(EventTypes.Pageview, "Pricing")];
        Assert.Equal(("https://shop.example/pricing?utm_source=newsletter", "newsletter"), (pricing.Url, pricing.UtmSource));
        Assert.Equal("Docs", pricing.Properties?.GetProperty("category").GetString());
        Assert.Equal("Account", byName[(EventTypes.Screen, "Settings")].Properties?.GetProperty("category").GetString());
        Assert.Equal(49.5m, byName[(EventTypes.Track, "Trial Started")].Properties?.GetProperty("revenue").GetDecimal());
        var checkout = byName[(EventTypes.Pageview, "Checkout")];
        Assert.Equal(("https://shop.example/checkout", "Shop"), (checkout.Url, checkout.Properties?.GetProperty("category").GetString()));
        Assert.Equal(120m, byName[(EventTypes.Track, "Order Completed")].Properties?.GetProperty("revenue").GetDecimal());

        // RudderStack dates a call with "originalTimestamp": the event keeps the SDK's time, not ingest's.
        Assert.All(server, e => Assert.False(e.TimestampClamped));

        var group = Assert.Single(server, e => e.Type == EventTypes.Group);
        Assert.Equal($"anon-{run}", group.AnonymousId);
        Assert.Equal($"acme-{run}", group.Properties?.GetProperty("groupId").GetString());
        Assert.Equal($"claimed-{run}", Assert.Single(browser, e => e.Type == EventTypes.Group).Properties?.GetProperty("groupId").GetString());
        Assert.Equal("https://www.acme-baeckerei.example/about", group.Properties?.GetProperty("website").GetString());
        var alias = Assert.Single(events, e => e.Type == EventTypes.Alias);
        Assert.Equal(($"anon-{run}", $"user-{run}"), (alias.PreviousId, alias.UserId));
        var identify = Assert.Single(events, e => e.Type == EventTypes.Identify);
        Assert.NotNull(identify.EmailHash);
        Assert.False(identify.Properties?.TryGetProperty("email", out _));
    }

    [Fact]
    public async Task Segments_limits_and_answers_hold_on_its_routes_and_a_write_key_cannot_speak_for_the_server()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);

        // 32 KB per call: one byte over is refused as too large, for that call alone.
        var padding = new string('x', 33 * 1024);
        var tooLarge = await host.PostAsync($$$"""{"messageId":"big","anonymousId":"a-1","event":"Big","properties":{"pad":"{{{padding}}}"}}""", path: "/v1/track");
        await Answer.ProblemAsync(tooLarge, 413, RejectReasons.EventTooLarge);

        // 500 KB per batch, counted after gzip inflation too.
        var batch = "{\"batch\":[" + string.Join(',', Enumerable.Range(0, 40).Select(i =>
            $$$"""{"type":"track","messageId":"m-{{{i}}}","anonymousId":"a-1","event":"E","properties":{"pad":"{{{new string('y', 14 * 1024)}}}"}}""")) + "]}";
        Assert.True(Encoding.UTF8.GetByteCount(batch) > 500 * 1024);
        await Answer.ProblemAsync(await host.PostAsync(batch, path: "/v1/batch"), 413, RejectReasons.BodyTooLarge);
        await Answer.ProblemAsync(await host.PostAsync(Gzip(Encoding.UTF8.GetBytes(batch)), path: "/v1/batch",
            configure: r => r.Content!.Headers.ContentEncoding.Add("gzip")), 413, RejectReasons.BodyTooLarge);

        // Bad JSON is a 400 that says where; gzip that is cut off mid-stream is a 400 too, never a 500.
        var malformed = await host.PostAsync("""{"batch":[{"type":"track","event":"x",}]}""", path: "/v1/batch");
        await Answer.ProblemAsync(malformed, 400, RejectReasons.MalformedJson);
        var whole = Gzip(Encoding.UTF8.GetBytes("""{"batch":[{"type":"track","messageId":"cut","anonymousId":"a-1","event":"Cut"}]}"""));
        var cut = await host.PostAsync(whole[..(whole.Length / 2)], path: "/v1/batch", configure: r => r.Content!.Headers.ContentEncoding.Add("gzip"));
        Assert.Equal(400, (int)cut.StatusCode);

        // A key of another kind: a read key cannot send (403), an unknown one is 401 with Basic auth as the SDKs send it.
        var read = await host.PostAsync("""{"anonymousId":"a-1","event":"X"}""", key: IngestHost.ReadKey, path: "/v1/track");
        await Answer.ProblemAsync(read, 403, RejectReasons.KeyCannotWrite);
        var basic = await host.PostAsync("""{"anonymousId":"a-1","event":"X"}""", key: null, path: "/v1/track",
            configure: r => r.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String("wrong-key:"u8.ToArray())));
        await Answer.ProblemAsync(basic, 401, RejectReasons.UnknownKey);

        // The write key's context.ip is the visitor's word about itself: ignored; the server key's is the visitor's address.
        const string Body = """{"batch":[{"type":"track","messageId":"ip-1","anonymousId":"a-1","event":"X","context":{"ip":"203.0.113.7"}}]}""";
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync(Body, path: "/v1/batch")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync(Body, key: IngestHost.ServerKey, path: "/v1/batch")).StatusCode);
        var ips = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 2).ToDictionary(m => m.Event.EventId, m => m.Event.Ip);
        Assert.Equal("203.0.113.7", ips["srv:ip-1"]);
        Assert.NotEqual("203.0.113.7", ips["pub:ip-1"]);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}
