using Insights.DevStack.Testing;
using Insights.Ingest.Parsing;
using Insights.Ingest.Privacy;

namespace Insights.Ingest.Tests.Integration;

/// <summary>Per-site privacy at the edge: opt-out signals store nothing, cookieless sites get server-derived visitor ids.</summary>
public sealed class PrivacyTests(DevStackFixture stack)
{
    private const string CookielessWriteKey = "cookieless-write-key-0001";
    private const string CookielessServerKey = "cookieless-server-key-0001";
    private const string IgnoresSignalsKey = "ignores-signals-write-key-0001";
    private const string Chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36";

    // Beside the Development sites (high indexes, so they add to that list instead of replacing an entry).
    private static readonly Dictionary<string, string?> Sites = new()
    {
        ["Sites:90:Id"] = "private",
        ["Sites:90:WriteKeys:0"] = CookielessWriteKey,
        ["Sites:90:ServerKeys:0"] = CookielessServerKey,
        ["Sites:90:Cookieless"] = "true",
        ["Sites:91:Id"] = "tracks-all",
        ["Sites:91:WriteKeys:0"] = IgnoresSignalsKey,
        ["Sites:91:HonorDoNotTrack"] = "false",
        ["Sites:91:HonorGlobalPrivacyControl"] = "false",
    };

    [Fact]
    public async Task Do_not_track_and_global_privacy_control_store_nothing_for_a_site_that_honours_them()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap, Sites);
        foreach (var (header, reason) in new[] { ("DNT", PrivacySignals.DoNotTrack), ("Sec-GPC", PrivacySignals.GlobalPrivacyControl) })
        {
            var response = await host.PostAsync("""{"type":"track","event":"opted-out","anonymousId":"v1"}""",
                path: "/v1/events?key=" + IngestHost.WriteKey, key: null, contentType: "text/plain", configure: r => r.Headers.Add(header, "1"));
            var body = await Answer.AcceptedAsync(response, 0);
            Assert.Equal(reason, body.GetProperty("reason").GetString());
            Assert.Empty(Answer.Rejections(body));
        }

        // The signal does not hide a wrong key, and a site that does not honour it keeps the event.
        await Answer.ProblemAsync(await host.PostAsync("{}", key: "not-a-key-of-any-site", configure: r => r.Headers.Add("DNT", "1")), 401, RejectReasons.UnknownKey);
        var kept = await host.PostAsync("""{"type":"track","event":"kept","anonymousId":"v1"}""", key: IgnoresSignalsKey,
            configure: r => { r.Headers.Add("DNT", "1"); r.Headers.Add("Sec-GPC", "1"); });
        var keptBody = await Answer.AcceptedAsync(kept, 1);
        Assert.False(keptBody.TryGetProperty("reason", out _));
        var normal = await host.PostAsync("""{"type":"track","event":"kept","anonymousId":"v2"}""", configure: r => r.Headers.Add("DNT", "0"));
        await Answer.AcceptedAsync(normal, 1);

        var messages = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 2);
        Assert.Equal([("demo", "kept"), ("tracks-all", "kept")], messages.Select(m => (m.Event.SiteId, m.Event.Name!)).Order());
    }

    [Fact]
    public async Task A_cookieless_site_counts_visitors_by_the_server_derived_id_whatever_the_browser_sent()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap, Sites);
        async Task SendAsync(string messageId, string anonymousId, string userAgent)
        {
            var response = await host.PostAsync($$"""{"type":"pageview","messageId":"{{messageId}}","anonymousId":"{{anonymousId}}","url":"https://private.example/"}""",
                key: CookielessWriteKey, configure: r => r.Headers.UserAgent.ParseAdd(userAgent));
            await Answer.AcceptedAsync(response, 1);
        }

        await SendAsync("first", "page-load-1", Chrome);
        await SendAsync("second", "page-load-2", Chrome);
        await SendAsync("firefox", "page-load-3", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0");
        // A server key speaks for a visitor whose id the sender chose (a chat or a shop): kept.
        var server = await host.PostAsync("""{"type":"track","event":"Order","messageId":"server","anonymousId":"shop-visitor-7","context":{"ip":"198.51.100.7"}}""",
            key: CookielessServerKey);
        await Answer.AcceptedAsync(server, 1);

        var events = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 4).ToDictionary(m => m.Event.EventId);
        var visitor = events["pub:first"].Event.AnonymousId!;
        Assert.Matches("^c-[A-Za-z0-9_-]{22}$", visitor);
        Assert.Equal(visitor, events["pub:second"].Event.AnonymousId);
        Assert.Equal("private:" + visitor, events["pub:second"].Key);
        Assert.StartsWith("c-", events["pub:firefox"].Event.AnonymousId, StringComparison.Ordinal);
        Assert.NotEqual(visitor, events["pub:firefox"].Event.AnonymousId);
        Assert.Equal("shop-visitor-7", events["srv:server"].Event.AnonymousId);
    }
}
