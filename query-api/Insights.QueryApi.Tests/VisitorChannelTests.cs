using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Insights.DevStack.Testing;
using Insights.QueryApi.Live;
using Insights.QueryApi.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Insights.QueryApi.Tests;

/// <summary>
/// The visitors' invitation channel over real HTTP: public input (the write key, a secret in the body), authorized per
/// visitor by the secret, bounded per address and in time, with a clear refusal for every hostile request.
/// </summary>
public sealed class VisitorChannelTests(DevStackFixture stack)
{
    // Words a page keeps and the id Chromium's (and Node's) WebCrypto derive from them, as t.js does.
    private const string BrowserSecret = "1,2,4294967295,123456789,0,42,3000000000,7";
    private const string BrowserId = "vyutwl4dyjqnd3hlq2a1mk7s";

    [Fact]
    public void The_channel_derives_the_id_the_tracker_derives_and_refuses_anything_else()
    {
        Assert.Equal(BrowserId, VisitorSecret.Derive(BrowserSecret));
        Assert.Equal(BrowserId, VisitorSecret.Derive(" " + BrowserSecret + "\n"));
        Assert.NotEqual(BrowserId, VisitorSecret.Derive("1,2,4294967295,123456789,0,42,3000000000,8"));
        foreach (var bad in (string[])["", "1,2,3", BrowserSecret + ",9", "1,2,4294967296,1,0,42,3000000000,7", "-1,2,3,4,5,6,7,8",
            "0x1,2,3,4,5,6,7,8", "1, 2,3,4,5,6,7,8", "١,٢,٣,٤,٥,٦,٧,٨", BrowserId, new string('1', 200)])
        {
            Assert.Null(VisitorSecret.Derive(bad));
        }
    }

    [Fact]
    public async Task An_invitation_reaches_only_the_page_whose_secret_proves_the_visitor()
    {
        await using var api = await ChannelApi.StartAsync(stack);
        var (mine, theirs) = (Secret(), Secret());
        await using var visitor = await api.OpenAsync(mine);
        await using var other = await api.OpenAsync(theirs);
        var id = VisitorSecret.Derive(mine)!;

        Assert.True(api.Offer(new VisitorInvitation("inv-1", TestSites.Shop, id, "rule-7", "Hallo 👋 — Fragen zu den Preisen? 価格", DateTimeOffset.UtcNow)));
        var invitation = await visitor.NextAsync();
        Assert.Equal(("inv-1", "invitation"), (invitation.RawId, invitation.Event));
        Assert.Equal("inv-1", invitation.Data.GetProperty("id").GetString());
        Assert.Equal("rule-7", invitation.Data.GetProperty("rule").GetString());
        Assert.Equal("Hallo 👋 — Fragen zu den Preisen? 価格", invitation.Data.GetProperty("message").GetString());
        Assert.Null(await other.NextAsync(TimeSpan.FromSeconds(1)));

        // Knowing the visitor's id is not enough: it is not a secret, and no secret derives to it but the visitor's own.
        using var client = api.Client();
        using var withId = await Post(client, TestSites.ShopWrite, id);
        Assert.Equal("invalid_secret", (await withId.ProblemAsync(HttpStatusCode.BadRequest)).Reason());
        // The same visitor id on another site is another visitor; a visitor with no open page gets nothing here.
        Assert.False(api.Offer(new VisitorInvitation("inv-2", TestSites.Other, id, null, "Hi", DateTimeOffset.UtcNow)));
        Assert.False(api.Offer(new VisitorInvitation("inv-3", TestSites.Shop, VisitorSecret.Derive(Secret())!, null, "Hi", DateTimeOffset.UtcNow)));
        Assert.Null(await visitor.NextAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Only_the_sites_write_key_opens_a_channel_and_every_refusal_says_why()
    {
        await using var api = await ChannelApi.StartAsync(stack);
        using var client = api.Client();
        var secret = Secret();

        async Task<string> RefusedAsync(HttpStatusCode status, string? urlKey, string? bearer = null, string site = TestSites.Shop)
        {
            using var response = await Post(client, urlKey, secret, bearer, site);
            Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            return (await response.ProblemAsync(status)).Reason();
        }

        Assert.Equal("missing_key", await RefusedAsync(HttpStatusCode.Unauthorized, null));
        Assert.Equal("unknown_key", await RefusedAsync(HttpStatusCode.Unauthorized, "no-such-key"));
        // A secret key in a URL has leaked: refused as such, whatever else the request carries.
        Assert.Equal("secret_key_in_url", await RefusedAsync(HttpStatusCode.Unauthorized, TestSites.ShopRead));
        Assert.Equal("secret_key_in_url", await RefusedAsync(HttpStatusCode.Unauthorized, TestSites.ShopServer, bearer: TestSites.ShopWrite));
        Assert.Equal("write_key_required", await RefusedAsync(HttpStatusCode.Forbidden, null, bearer: TestSites.ShopRead));
        Assert.Equal("write_key_required", await RefusedAsync(HttpStatusCode.Forbidden, null, bearer: TestSites.ShopServer));
        // Another site's write key, or a site that does not exist: the same 404.
        Assert.Equal("site_not_found", await RefusedAsync(HttpStatusCode.NotFound, TestSites.OtherWrite));
        Assert.Equal("site_not_found", await RefusedAsync(HttpStatusCode.NotFound, TestSites.ShopWrite, site: "no-such-site"));

        // The write key in a URL opens this channel only: reports still refuse it.
        using var stats = await client.RequestAsync($"/v1/sites/{TestSites.Shop}/stats?key={TestSites.ShopWrite}");
        Assert.Equal(HttpStatusCode.Unauthorized, stats.StatusCode);

        // A page that sends a header is preflighted, and told it may POST.
        using var preflight = new HttpRequestMessage(HttpMethod.Options, $"/v1/sites/{TestSites.Shop}/visitor/invitations");
        preflight.Headers.Add("Origin", "https://shop.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var allowed = await client.SendAsync(preflight, Http.Ct);
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal("*", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task Hostile_bodies_are_refused_with_a_reason_before_anything_is_held_open()
    {
        await using var api = await ChannelApi.StartAsync(stack);
        using var client = api.Client();

        using (var huge = await Post(client, TestSites.ShopWrite, new string('1', 1_000_000)))
        {
            Assert.Equal("body_too_large", (await huge.ProblemAsync(HttpStatusCode.RequestEntityTooLarge)).Reason());
        }

        // Larger than a secret, sent without a length (chunked): read only up to the bound.
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sites/{TestSites.Shop}/visitor/invitations?key={TestSites.ShopWrite}"))
        {
            request.Content = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes(BrowserSecret + new string(',', 10_000))));
            request.Headers.TransferEncodingChunked = true;
            using var chunked = await client.SendAsync(request, Http.Ct);
            Assert.Equal("body_too_large", (await chunked.ProblemAsync(HttpStatusCode.RequestEntityTooLarge)).Reason());
        }

        foreach (var body in (string[])["", "{\"secret\":1}", "1,2,3,4,5,6,7", "a,b,c,d,e,f,g,h", "١,٢,٣,٤,٥,٦,٧,٨"])
        {
            using var malformed = await Post(client, TestSites.ShopWrite, body);
            Assert.Equal("invalid_secret", (await malformed.ProblemAsync(HttpStatusCode.BadRequest)).Reason());
        }

        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sites/{TestSites.Shop}/visitor/invitations?key={TestSites.ShopWrite}"))
        {
            request.Content = new ByteArrayContent([0x31, 0x2c, 0xff, 0xfe, 0x32]);
            using var binary = await client.SendAsync(request, Http.Ct);
            Assert.Equal("invalid_secret", (await binary.ProblemAsync(HttpStatusCode.BadRequest)).Reason());
        }

        Assert.Equal(0, api.Limits.Open);
    }

    [Fact]
    public async Task Connections_are_bounded_per_address_beat_and_end_after_their_time()
    {
        await using var api = await ChannelApi.StartAsync(stack, new()
        {
            ["VisitorChannel:MaxConnectionsPerAddress"] = "2",
            ["VisitorChannel:MaxConnectionTime"] = "00:00:03",
        });
        await using var first = await api.OpenAsync(Secret());
        await using (await api.OpenAsync(Secret()))
        {
            using var client = api.Client();
            using var third = await Post(client, TestSites.ShopWrite, Secret());
            Assert.Equal("too_many_connections", (await third.ProblemAsync(HttpStatusCode.TooManyRequests)).Reason());
            Assert.NotNull(third.Headers.RetryAfter);
        }

        // One left: a slot is free again.
        await Eventually.TrueAsync(() => Task.FromResult(api.Limits.Open == 1), Sse.Wait);
        await using var again = await api.OpenAsync(Secret());

        // Heartbeats while nothing happens (Live:HeartbeatSeconds 1), then the server closes it and the page reconnects.
        var ended = await Assert.ThrowsAsync<InvalidOperationException>(async () => await first.NextAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("the stream ended", ended.Message);
        Assert.True(first.Heartbeats >= 2, $"{first.Heartbeats} comments");
        await Eventually.TrueAsync(() => Task.FromResult(api.Limits.Open == 0), Sse.Wait);
    }

    [Fact]
    public async Task The_same_visitor_connecting_again_takes_over_and_the_older_page_is_told()
    {
        await using var api = await ChannelApi.StartAsync(stack);
        var secret = Secret();
        await using var older = await api.OpenAsync(secret);
        await using var newer = await api.OpenAsync(secret);

        var replaced = await older.NextAsync();
        Assert.Equal("replaced", replaced.Event);
        Assert.True(api.Offer(new VisitorInvitation("inv-9", TestSites.Shop, VisitorSecret.Derive(secret)!, null, "Hi", DateTimeOffset.UtcNow)));
        var invitation = await newer.NextAsync();
        Assert.Equal("inv-9", invitation.Data.GetProperty("id").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, invitation.Data.GetProperty("rule").ValueKind);
    }

    private static string Secret() => VisitorSecret.Format([.. Enumerable.Range(0, 8).Select(_ => (uint)Random.Shared.NextInt64(0, 1L << 32))]);

    private static async Task<HttpResponseMessage> Post(HttpClient client, string? urlKey, string body, string? bearer = null, string site = TestSites.Shop)
    {
        var url = $"/v1/sites/{site}/visitor/invitations" + (urlKey is null ? "" : $"?key={Uri.EscapeDataString(urlKey)}");
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "text/plain") };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return await client.SendAsync(request, Http.Ct);
    }

    /// <summary>The query API on a real port (connections come from 127.0.0.1), presence off: the channel needs none.</summary>
    private sealed class ChannelApi : IAsyncDisposable
    {
        private readonly WebApplicationFactory<Program> factory;
        private readonly EventsDatabase database;

        private ChannelApi(WebApplicationFactory<Program> factory, EventsDatabase database) => (this.factory, this.database) = (factory, database);

        public VisitorChannelLimits Limits => factory.Services.GetRequiredService<VisitorChannelLimits>();

        public static async Task<ChannelApi> StartAsync(DevStackFixture stack, Dictionary<string, string?>? changes = null)
        {
            var database = await EventsDatabase.CreateMigratedAsync(stack);
            var settings = database.Settings();
            settings["Live:HeartbeatSeconds"] = "1";
            foreach (var (key, value) in changes ?? [])
            {
                settings[key] = value;
            }

            var factory = new QueryApiFactory(settings);
            factory.UseKestrel(0);
            factory.StartServer();
            return new ChannelApi(factory, database);
        }

        public HttpClient Client() => factory.CreateClient();

        public bool Offer(VisitorInvitation invitation) => factory.Services.GetRequiredService<VisitorInvitations>().Offer(invitation);

        /// <summary>A page's connection, open (listening) once this returns.</summary>
        public async Task<SseReader> OpenAsync(string secret)
        {
            var client = Client();
            var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sites/{TestSites.Shop}/visitor/invitations?key={TestSites.ShopWrite}")
            {
                Content = new StringContent(secret, Encoding.UTF8, "text/plain"),
            };
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Http.Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            return new SseReader(client, request, response, await response.Content.ReadAsStreamAsync(Http.Ct));
        }

        public async ValueTask DisposeAsync()
        {
            await factory.DisposeAsync();
            database.Dispose();
        }
    }
}
