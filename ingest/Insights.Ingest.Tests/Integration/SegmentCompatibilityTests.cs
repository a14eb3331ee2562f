using System.Diagnostics;
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
/// A user of a Segment-compatible SDK changes only the host: the real <c>@segment/analytics-node</c> (installed by
/// scripts/setup.sh) with its default path, Segment's single-call routes, the key in the body, and gzip bodies.
/// </summary>
public sealed class SegmentCompatibilityTests(DevStackFixture stack)
{
    [Fact]
    public async Task The_official_node_sdk_with_only_the_host_changed_delivers_every_call()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);
        var run = Guid.NewGuid().ToString("N")[..8];

        var output = await RunSdkAsync(host.Client.BaseAddress!.ToString().TrimEnd('/'), IngestHost.WriteKey, run);

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

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>Runs TestData/Segment/send.cjs with the SDK scripts/setup.sh cached; fails with what to do when it is missing.</summary>
    private static async Task<string> RunSdkAsync(string baseUrl, string writeKey, string run)
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "Segment", "package.json")));
        var version = manifest.RootElement.GetProperty("dependencies").GetProperty("@segment/analytics-node").GetString();
        var modules = Path.Combine(cache, "insights", "npm", $"segment-sdk@{version}", "node_modules");
        Assert.True(Directory.Exists(Path.Combine(modules, "@segment", "analytics-node")),
            $"@segment/analytics-node@{version} is not installed at {modules}: run scripts/setup.sh (it needs node and npm).");

        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["NODE_PATH"] = modules },
        };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "TestData", "Segment", "send.cjs"), baseUrl, writeKey, run })
        {
            start.ArgumentList.Add(argument);
        }

        Process node;
        try
        {
            node = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception error)
        {
            Assert.Fail($"Node.js is needed to run the Segment SDK test ({error.Message}): apt-get install -y nodejs npm, then scripts/setup.sh.");
            throw;
        }

        using (node)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            var stdout = node.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = node.StandardError.ReadToEndAsync(timeout.Token);
            await node.WaitForExitAsync(timeout.Token);
            var output = await stdout;
            Assert.True(node.ExitCode == 0 && output.Contains("\"done\":true", StringComparison.Ordinal),
                $"node send.cjs exited {node.ExitCode}: {output} {await stderr}");
            return output;
        }
    }
}
