using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Insights.QueryApi.Live;
using Insights.QueryApi.Tests.Support;
using static Insights.QueryApi.Tests.Support.PartnerWorld;

namespace Insights.QueryApi.Tests;

/// <summary>
/// The partner's live view end to end: live events on a real Kafka topic, into presence, out over real HTTP as one
/// snapshot and one stream over every client site the person may see, with the accounts of <see cref="PartnerWorld"/>.
/// </summary>
public sealed class PartnerLiveTests(DevStackFixture stack, PartnerWorld world) : IClassFixture<PartnerWorld>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_partner_sees_the_visitors_of_its_clients_and_follows_them_on_one_stream()
    {
        await using var live = await PartnerLiveApi.StartAsync(stack, world);
        using var producer = live.Producer();
        await live.ProduceAsync(producer, View("alpha-de", "p-acme", "e1", "Acme"));
        await live.ProduceAsync(producer, View("beta", "p-initech", "e2", "Initech — 株式会社"));
        await live.ProduceAsync(producer, View("beta", "p-anon", "e3", null));
        await live.ProduceAsync(producer, View("gamma", "p-globex", "e4", "Globex"));
        await Eventually.TrueAsync(async () => (await live.GetAsync($"/v1/partners/{PartnerB}/live", AdminB)).GetProperty("total").GetInt32() == 1, Sse.Wait);
        await Eventually.TrueAsync(async () => (await live.GetAsync($"/v1/partners/{PartnerA}/live", AdminA)).GetProperty("total").GetInt32() == 3, Sse.Wait);

        // A partner admin: both clients, companies only by default, each visitor named with site and client.
        var admin = await live.GetAsync($"/v1/partners/{PartnerA}/live", AdminA);
        Assert.Equal([("alpha-de", "Alpha GmbH", "p-acme"), ("beta", "Beta Inc", "p-initech")], Visitors(admin).Order());
        Assert.Equal(["alpha-de", "alpha-us", "beta"], admin.GetProperty("sites").EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        Assert.Equal(3, Visitors(await live.GetAsync($"/v1/partners/{PartnerA}/live?companies=false", AdminA)).Length);
        Assert.Equal([("beta", "Beta Inc", "p-initech")], Visitors(await live.GetAsync($"/v1/partners/{PartnerA}/live?sites=beta", AdminA)));
        Assert.Empty(Visitors(await live.GetAsync($"/v1/partners/{PartnerA}/live?country=fr", AdminA)));

        // 'limit' lists the most recently seen across the sites; the counts cover everyone.
        var everyone = await live.GetAsync($"/v1/partners/{PartnerA}/live?companies=false", AdminA);
        var two = await live.GetAsync($"/v1/partners/{PartnerA}/live?companies=false&limit=2", AdminA);
        Assert.Equal((3, 3, 2), (two.GetProperty("total").GetInt32(), two.GetProperty("matching").GetInt32(), Visitors(two).Length));
        Assert.Equal(Visitors(everyone).Take(2), Visitors(two));
        var oneCompany = await live.GetAsync($"/v1/partners/{PartnerA}/live?limit=1", AdminA);
        Assert.Equal((3, 2), (oneCompany.GetProperty("total").GetInt32(), oneCompany.GetProperty("matching").GetInt32()));
        Assert.Equal(Visitors(admin).Take(1), Visitors(oneCompany));

        // Staff: their assigned client only. The other partner: its own client only.
        Assert.Equal([("beta", "Beta Inc", "p-initech")], Visitors(await live.GetAsync($"/v1/partners/{PartnerA}/live", StaffA)));
        var other = await live.GetAsync($"/v1/partners/{PartnerB}/live", AdminB);
        Assert.Equal([("gamma", "Gamma Ltd", "p-globex")], Visitors(other));

        // The stream: a snapshot of everyone, then a join on either client site, each naming its site; gamma's never.
        string lastId;
        await using (var stream = await live.OpenStreamAsync(AdminA))
        {
            var snapshot = await stream.NextAsync();
            Assert.Equal(LiveEventNames.Snapshot, snapshot.Event);
            Assert.Equal(3, snapshot.Data.GetProperty("visitors").GetArrayLength());
            Assert.Equal(admin.GetProperty("eventId").GetString(), snapshot.RawId); // nothing happened between them

            await live.ProduceAsync(producer, View("gamma", "p-gamma-2", "e5", "Globex"));
            await live.ProduceAsync(producer, View("beta", "p-beta-2", "e6", "Hooli"));
            var onBeta = await stream.NextAsync();
            Assert.Equal((LiveEventNames.Joined, "beta", "Beta Inc", "p-beta-2"), Named(onBeta));
            await live.ProduceAsync(producer, View("alpha-us", "p-us", "e7", null));
            var onAlpha = await stream.NextAsync();
            Assert.Equal((LiveEventNames.Joined, "alpha-us", "Alpha GmbH", "p-us"), Named(onAlpha));
            lastId = onAlpha.RawId;
        }

        // Away for a while: resuming with the last id delivers exactly what happened meanwhile, on any site.
        await live.ProduceAsync(producer, View("alpha-de", "p-acme", "e8", "Acme", "/pricing"));
        await live.ProduceAsync(producer, View("beta", "p-beta-3", "e9", null));
        await Eventually.TrueAsync(async () => (await live.GetAsync($"/v1/partners/{PartnerA}/live?companies=false", AdminA)).GetProperty("total").GetInt32() == 6, Sse.Wait);
        await using (var resumed = await live.OpenStreamAsync(AdminA, lastId))
        {
            var first = await resumed.NextAsync();
            var second = await resumed.NextAsync();
            Assert.Equal([(LiveEventNames.PageChanged, "alpha-de", "Alpha GmbH", "p-acme"), (LiveEventNames.Joined, "beta", "Beta Inc", "p-beta-3")],
                new[] { Named(first), Named(second) }.Order());
            Assert.Null(await resumed.NextAsync(TimeSpan.FromSeconds(2)));
            Assert.True(resumed.Heartbeats >= 1, "a heartbeat comment within 2 s (Live:HeartbeatSeconds = 1)");
        }

        // An id that cannot be resumed (malformed, another set of sites, hostile): a reset with the whole picture.
        foreach (var bad in new[] { "12", lastId.Replace(".", ".9", StringComparison.Ordinal), "1.2.3.4.5", new string('9', 5000) })
        {
            await using var reset = await live.OpenStreamAsync(AdminA, bad);
            var first = await reset.NextAsync();
            Assert.Equal(LiveEventNames.Reset, first.Event);
            Assert.Equal(6, first.Data.GetProperty("visitors").GetArrayLength());
        }

        // Staff's stream resumed from the admin's id covers other sites: a reset with only their client.
        await using (var staff = await live.OpenStreamAsync(StaffA, lastId))
        {
            var first = await staff.NextAsync();
            Assert.Equal(LiveEventNames.Reset, first.Event);
            Assert.All(first.Data.GetProperty("visitors").EnumerateArray(), v => Assert.Equal("beta", v.GetProperty("site").GetString()));
        }
    }

    [Fact]
    public async Task Only_the_partners_own_people_see_its_live_view()
    {
        await using var live = await PartnerLiveApi.StartAsync(stack, world);
        using var client = live.Client();
        foreach (var path in new[] { "/live", "/live/stream" })
        {
            Assert.Equal("partner_not_found", (await (await live.SendAsync(client, $"/v1/partners/{PartnerA}{path}", world.Token(AdminB)))
                .ProblemAsync(HttpStatusCode.NotFound)).Reason());
            Assert.Equal("partner_not_found", (await (await live.SendAsync(client, $"/v1/partners/{PartnerA}{path}", world.Token(BetaOwner)))
                .ProblemAsync(HttpStatusCode.NotFound)).Reason());
            Assert.Equal("key_cannot_manage", (await (await live.SendAsync(client, $"/v1/partners/{PartnerA}{path}", ReadKey("alpha-de")))
                .ProblemAsync(HttpStatusCode.Forbidden)).Reason());
            Assert.Equal(HttpStatusCode.Unauthorized, (await live.SendAsync(client, $"/v1/partners/{PartnerA}{path}", null)).StatusCode);
            Assert.Equal("site_not_found", (await (await live.SendAsync(client, $"/v1/partners/{PartnerA}{path}?sites=gamma", world.Token(AdminA)))
                .ProblemAsync(HttpStatusCode.NotFound)).Reason());
        }

        var invalid = await (await live.SendAsync(client, $"/v1/partners/{PartnerA}/live?min_score=101&country=Germany&companies=yes&limit=0", world.Token(AdminA)))
            .ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["companies", "country", "limit", "min_score"], invalid.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
    }

    private static (string, string, string)[] Visitors(JsonElement snapshot) =>
    [
        .. snapshot.GetProperty("visitors").EnumerateArray().Select(v => (v.GetProperty("site").GetString()!, v.GetProperty("organisationName").GetString()!,
            v.GetProperty("visitor").GetProperty("visitorId").GetString()!)),
    ];

    private static (string, string, string, string) Named(SseEvent e) => (e.Event, e.Data.GetProperty("site").GetString()!,
        e.Data.GetProperty("organisationName").GetString()!, e.Data.GetProperty("visitor").GetProperty("visitorId").GetString()!);

    private static LiveEvent View(string site, string visitor, string id, string? company, string path = "/") => new()
    {
        EventId = id, Type = EventTypes.Pageview, SiteId = site, VisitorId = visitor, Timestamp = DateTimeOffset.UtcNow, ReceivedAt = DateTimeOffset.UtcNow,
        Url = "https://" + site + ".example" + path, Path = path, Title = "Page",
        Company = company is null ? null : new LiveCompany(company.ToLowerInvariant()[..Math.Min(4, company.Length)] + "-0000000f", company, null),
        Geo = new LiveGeo("DE", "Berlin", "Berlin"),
    };

    /// <summary>The query API over the partner world on a real port, with presence on, reading its own topic.</summary>
    private sealed class PartnerLiveApi(QueryApiFactory factory, PartnerWorld world, string bootstrap, string topic) : IAsyncDisposable
    {
        public static async Task<PartnerLiveApi> StartAsync(DevStackFixture stack, PartnerWorld world)
        {
            var topic = DevStackFixture.NewTopicName("partner-live");
            using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = stack.KafkaBootstrap }).Build())
            {
                // The topic must exist before the consumer subscribes: a first message creates it.
                await producer.ProduceAsync(topic, new Message<byte[]?, byte[]?> { Value = "{}"u8.ToArray() }, Ct);
            }

            var factory = world.StartApi(new()
            {
                ["Live:Enabled"] = "true", ["Live:BootstrapServers"] = stack.KafkaBootstrap, ["Live:Topic"] = topic,
                ["Live:HeartbeatSeconds"] = "1", ["Live:ReplayEvents"] = "64",
            });
            factory.UseKestrel(0);
            factory.StartServer();
            var api = new PartnerLiveApi(factory, world, stack.KafkaBootstrap, topic);
            using var client = api.Client();
            await Eventually.TrueAsync(async () =>
                (await api.SendAsync(client, $"/v1/partners/{PartnerA}/live", world.Token(AdminA))).StatusCode == HttpStatusCode.OK, Sse.Wait);
            return api;
        }

        public HttpClient Client() => factory.CreateClient();

        public IProducer<byte[]?, byte[]?> Producer() =>
            new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 0 }).Build();

        public Task ProduceAsync(IProducer<byte[]?, byte[]?> producer, LiveEvent e) =>
            producer.ProduceAsync(topic, new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes($"{e.SiteId}:{e.VisitorId}"),
                Value = LiveEventCodec.Encode(e),
                Headers = [new Header(EventCodec.SchemaHeader, LiveEventCodec.SchemaValue)],
            }, Ct);

        public async Task<HttpResponseMessage> SendAsync(HttpClient client, string url, string? bearer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (bearer is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
            }

            return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        }

        public async Task<JsonElement> GetAsync(string url, Guid person)
        {
            using var client = Client();
            using var response = await SendAsync(client, url, world.Token(person));
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}");
            return JsonDocument.Parse(body).RootElement.Clone();
        }

        public async Task<SseReader> OpenStreamAsync(Guid person, string? lastEventId = null)
        {
            var client = Client();
            var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/partners/{(person == AdminB ? PartnerB : PartnerA)}/live/stream");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", world.Token(person));
            if (lastEventId is not null)
            {
                request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
            }

            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new SseReader(client, request, response, await response.Content.ReadAsStreamAsync(Ct));
        }

        public ValueTask DisposeAsync() => factory.DisposeAsync();
    }
}
