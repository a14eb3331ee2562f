using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ClickHouse.Driver;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Insights.QueryApi.Live;
using Insights.QueryApi.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Insights.QueryApi.Tests;

/// <summary>
/// Live presence end to end on the dev stack: live events as the processors publish them, on a real Kafka topic, into
/// the query API's presence, out as a snapshot and a Server-Sent Events stream over real HTTP.
/// </summary>
public sealed class LiveStreamTests(DevStackFixture stack)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Visitors_appear_change_pages_and_a_reconnect_with_last_event_id_loses_nothing()
    {
        await using var live = await LiveApi.StartAsync(stack);
        using var producer = live.Producer();

        await using (var stream = await live.OpenStreamAsync())
        {
            var snapshot = await stream.NextAsync();
            Assert.Equal(LiveEventNames.Snapshot, snapshot.Event);
            Assert.Equal(0, snapshot.Data.GetProperty("total").GetInt32());

            await live.ProduceAsync(producer, View("v1", "/", "a1"));
            var joined = await stream.NextAsync();
            Assert.Equal((LiveEventNames.Joined, "v1"), (joined.Event, joined.Data.GetProperty("visitorId").GetString()));
            Assert.Equal("Acme", joined.Data.GetProperty("company").GetProperty("name").GetString());

            await live.ProduceAsync(producer, View("v1", "/pricing", "a2", "Preise — 価格"));
            var moved = await stream.NextAsync();
            Assert.Equal(LiveEventNames.PageChanged, moved.Event);
            Assert.Equal("Preise — 価格", moved.Data.GetProperty("page").GetProperty("title").GetString());
            Assert.True(moved.Id > joined.Id);

            // Hostile input on the topic: skipped and counted, and presence goes on.
            await live.ProduceRawAsync(producer, "v9", "{not json"u8.ToArray());
            await live.ProduceRawAsync(producer, "v9", Encoding.UTF8.GetBytes(
                JsonSerializer.Serialize(new { v = 1, event_id = "big", type = "pageview", site_id = TestSites.Shop, title = new string('x', 100_000) })));
            await live.ProduceRawAsync(producer, "v9", """{"v":7,"event_id":"x","type":"pageview","site_id":"shop"}"""u8.ToArray());
            // A message of several events, one per line (the processors bundle a batch's): the bad line is skipped, the
            // event after it applies.
            await live.ProduceRawAsync(producer, "v2", [.. "{not json\n"u8,
                .. LiveEventCodec.Encode(View("v2", "/docs", "b1") with { Company = null, Geo = new LiveGeo("FR", null, "Paris") })]);
            var second = await stream.NextAsync();
            Assert.Equal((LiveEventNames.Joined, "v2"), (second.Event, second.Data.GetProperty("visitorId").GetString()));
            Assert.True(live.Metrics.SkippedTotal >= 4, $"skipped {live.Metrics.SkippedTotal}");
            live.LastSeenId = second.Id;
        }

        // While no one listens, things happen.
        await live.ProduceAsync(producer, View("v3", "/contact", "c1"));
        await live.ProduceAsync(producer, Event("v1", EventTypes.ChatStarted, "c2") with { ChatId = "chat-1" });
        await Eventually.TrueAsync(async () => (await live.SnapshotAsync("")).GetProperty("total").GetInt32() == 3, Wait);

        await using (var resumed = await live.OpenStreamAsync(live.LastSeenId))
        {
            var first = await resumed.NextAsync();
            var then = await resumed.NextAsync();
            Assert.Equal([(live.LastSeenId + 1, LiveEventNames.Joined, "v3"), (live.LastSeenId + 2, LiveEventNames.Updated, "v1")],
                [(first.Id, first.Event, first.Data.GetProperty("visitorId").GetString()), (then.Id, then.Event, then.Data.GetProperty("visitorId").GetString())]);
            Assert.Equal("chatting", then.Data.GetProperty("chatState").GetString());
        }

        // An id the ring no longer holds: a reset with the whole picture, then the stream goes on from it.
        await using (var reset = await live.OpenStreamAsync(12))
        {
            var first = await reset.NextAsync();
            Assert.Equal(LiveEventNames.Reset, first.Event);
            Assert.Equal(3, first.Data.GetProperty("visitors").GetArrayLength());
            var heartbeatOrNothing = await reset.NextAsync(TimeSpan.FromSeconds(3));
            Assert.Null(heartbeatOrNothing);
            Assert.True(reset.Heartbeats >= 1, "a heartbeat comment within 3 s (Live:HeartbeatSeconds = 1)");
        }

        // The snapshot's filters.
        Assert.Equal(["v1", "v3"], Ids(await live.SnapshotAsync("?companies=true")).Order());
        Assert.Equal(["v2"], Ids(await live.SnapshotAsync("?country=fr")));
        Assert.Equal(["v3"], Ids(await live.SnapshotAsync("?page=/contact")));
        Assert.Equal(["v1", "v3"], Ids(await live.SnapshotAsync("?min_score=20")).Order());

        // 'limit' lists the most recently seen matching visitors; the counts still cover everyone.
        var everyone = await live.SnapshotAsync("");
        Assert.Equal((3, 3, 3), (everyone.GetProperty("total").GetInt32(), everyone.GetProperty("matching").GetInt32(), everyone.GetProperty("visitors").GetArrayLength()));
        var two = await live.SnapshotAsync("?limit=2");
        Assert.Equal((3, 3), (two.GetProperty("total").GetInt32(), two.GetProperty("matching").GetInt32()));
        Assert.Equal(Ids(everyone).Take(2), Ids(two));
        var oneCompany = await live.SnapshotAsync("?companies=true&limit=1");
        Assert.Equal((3, 2), (oneCompany.GetProperty("total").GetInt32(), oneCompany.GetProperty("matching").GetInt32()));
        Assert.Equal(Ids(await live.SnapshotAsync("?companies=true")).Take(1), Ids(oneCompany));
    }

    [Fact]
    public async Task After_rejoining_its_group_presence_goes_on_where_it_was_and_misses_no_one_who_came_meanwhile()
    {
        // A stack of its own: taking its broker down must not disturb the tests sharing the assembly's.
        var own = new DevStackFixture();
        await own.InitializeAsync();
        try
        {
            Assert.SkipUnless(own.OwnsStack, "takes the Kafka broker down, so it needs a dev stack of its own (INSIGHTS_KAFKA_BOOTSTRAP names a shared one)");
            await using var live = await LiveApi.StartAsync(own);
            using var producer = live.Producer();
            await using var stream = await live.OpenStreamAsync();
            Assert.Equal(LiveEventNames.Snapshot, (await stream.NextAsync()).Event);
            await live.ProduceAsync(producer, View("v1", "/", "r1"));
            Assert.Equal("v1", (await stream.NextAsync()).Data.GetProperty("visitorId").GetString());

            // Away longer than the consumer's session (10 s): its group forgets it, and once the broker is back it joins
            // again and is given its partitions anew. A visitor arriving meanwhile is after its last position but before
            // the partitions' ends at that moment.
            await own.SetKafkaBrokerAsync(1, up: false);
            await Task.Delay(TimeSpan.FromSeconds(12), TestContext.Current.CancellationToken);
            await own.SetKafkaBrokerAsync(1, up: true);
            await live.ProduceAsync(producer, View("v2", "/pricing", "r2"));
            await live.ProduceAsync(producer, View("v2", "/contact", "r3"));

            var joined = await stream.NextAsync();
            Assert.Equal((LiveEventNames.Joined, "v2", "/pricing"),
                (joined.Event, joined.Data.GetProperty("visitorId").GetString(), joined.Data.GetProperty("page").GetProperty("path").GetString()));
            Assert.Equal(LiveEventNames.PageChanged, (await stream.NextAsync()).Event);
            var present = await live.SnapshotAsync("");
            Assert.Equal(2, present.GetProperty("total").GetInt32());
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_stream_and_snapshot_need_a_read_key_of_the_site_in_a_header()
    {
        await using var live = await LiveApi.StartAsync(stack);
        using var client = live.Client();

        Assert.Equal("missing_key", (await (await client.RequestAsync("/v1/sites/shop/live/stream")).ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
        Assert.Equal("secret_key_in_url",
            (await (await client.RequestAsync($"/v1/sites/shop/live/stream?key={TestSites.ShopRead}")).ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
        Assert.Equal("site_not_found",
            (await (await client.RequestAsync("/v1/sites/shop/live", bearer: TestSites.OtherRead)).ProblemAsync(HttpStatusCode.NotFound)).Reason());
        Assert.Equal("key_cannot_read",
            (await (await client.RequestAsync("/v1/sites/shop/live", bearer: TestSites.ShopWrite)).ProblemAsync(HttpStatusCode.Forbidden)).Reason());
        var invalid = await (await client.RequestAsync("/v1/sites/shop/live?min_score=101&country=Germany&page=pricing", bearer: TestSites.ShopRead))
            .ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["country", "min_score", "page"], invalid.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
        foreach (var limit in new[] { "0", "1001", "-1", "ten", "99999999999", "1e3", new string('9', 5_000) })
        {
            var refused = await (await client.RequestAsync($"/v1/sites/shop/live?limit={Uri.EscapeDataString(limit)}", bearer: TestSites.ShopRead))
                .ProblemAsync(HttpStatusCode.BadRequest);
            Assert.Equal(["limit"], refused.GetProperty("errors").EnumerateObject().Select(p => p.Name));
            if (limit.Length > 10)
            {
                Assert.DoesNotContain(limit, refused.GetRawText(), StringComparison.Ordinal); // never echoed back
            }
        }
    }

    [Fact]
    public async Task An_instance_started_mid_visit_rebuilds_presence_from_clickhouse()
    {
        var database = await EventsDatabase.CreateMigratedAsync(stack);
        var now = DateTime.UtcNow;
        using (var client = new ClickHouseClient(stack.ConnectionString(database.Name)))
        {
            string[] columns = ["event_id", "site_id", "type", "timestamp", "received_at", "anonymous_id", "url", "path", "title", "session_id",
                "country", "city", "device_type", "browser", "os", "company_id", "company_name", "bot_reason"];
            object[][] rows =
            [
                ["r1", TestSites.Shop, "pageview", now.AddMinutes(-2), now.AddMinutes(-2), "here", "https://shop.example/", "/", "Home", "s-here",
                    "DE", "Berlin", "desktop", "Firefox", "Linux", "acme-1a2b3c4d", "Acme", ""],
                ["r2", TestSites.Shop, "pageview", now.AddMinutes(-1), now.AddMinutes(-1), "here", "https://shop.example/pricing", "/pricing", "Pricing", "s-here",
                    "DE", "Berlin", "desktop", "Firefox", "Linux", "acme-1a2b3c4d", "Acme", ""],
                ["r3", TestSites.Shop, "pageview", now.AddMinutes(-20), now.AddMinutes(-20), "gone", "https://shop.example/", "/", "Home", "s-gone",
                    "DE", "", "mobile", "Safari", "iOS", "", "", ""],
                ["r4", TestSites.Shop, "pageview", now.AddMinutes(-1), now.AddMinutes(-1), "crawler", "https://shop.example/", "/", "Home", "",
                    "", "", "bot", "Other", "Other", "", "", "crawler"],
            ];
            await client.InsertBinaryAsync("events", columns, rows, cancellationToken: TestContext.Current.CancellationToken);
        }

        // Two visits of "here": three days ago, and this one (the processors store a session before they publish).
        var visitStart = DateTime.SpecifyKind(now.AddMinutes(-2), DateTimeKind.Utc);
        await stack.InsertVisitsAsync(database.Name,
            new TestVisit("s-old", "here", now.AddDays(-3), ["/"]),
            new TestVisit("s-here", "here", visitStart, ["/", "/pricing"], "acme-1a2b3c4d", "Acme"));

        await using var live = await LiveApi.StartAsync(stack, database);
        // The rebuild awaited ClickHouse; the loop still follows the topic on its own thread, not a pool thread parked in Consume.
        Assert.False(live.Consumer.FollowsOnThreadPool);

        var snapshot = await live.SnapshotAsync("");
        var visitor = Assert.Single(snapshot.GetProperty("visitors").EnumerateArray());
        Assert.Equal("here", visitor.GetProperty("visitorId").GetString());
        Assert.Equal("/pricing", visitor.GetProperty("page").GetProperty("path").GetString());
        Assert.Equal(2, visitor.GetProperty("pageViews").GetInt32());
        Assert.Equal("Acme", visitor.GetProperty("company").GetProperty("name").GetString());
        Assert.Equal("direct", visitor.GetProperty("channel").GetString());
        Assert.Equal(new DateTimeOffset(visitStart).ToUnixTimeSeconds(), visitor.GetProperty("visitStartedAt").GetDateTimeOffset().ToUnixTimeSeconds());

        // Returning: looked up in storage a second after joining (someone has the site open: StartAsync's snapshot).
        await Eventually.TrueAsync(async () =>
            (await live.SnapshotAsync("")).GetProperty("visitors")[0].GetProperty("visits") is { ValueKind: JsonValueKind.Number } visits
            && visits.GetInt64() == 2, Wait);
        Assert.True((await live.SnapshotAsync("")).GetProperty("visitors")[0].GetProperty("returning").GetBoolean());
    }

    [Fact]
    public async Task Visits_of_a_site_nobody_has_open_are_looked_up_once_someone_opens_it()
    {
        var database = await EventsDatabase.CreateMigratedAsync(stack);
        var now = DateTime.UtcNow;
        await stack.InsertVisitsAsync(database.Name,
            new TestVisit("s-old", "back", now.AddDays(-3), ["/"]), new TestVisit("s-now", "back", now.AddMinutes(-1), ["/"]));
        await using var live = await LiveApi.StartAsync(stack, database, resumeWindow: "00:00:01");
        await Eventually.TrueAsync(() => Task.FromResult(!live.Board.IsWatched(TestSites.Shop)), Wait);

        using var producer = live.Producer();
        await live.ProduceAsync(producer, View("back", "/", "e-back"));
        var site = live.Board.Site(TestSites.Shop);
        await Eventually.TrueAsync(() => Task.FromResult(Visits(site, "back") is var (present, _) && present), Wait);
        // The look-ups run every second; for a site nobody has open they skip its visitors.
        await Task.Delay(TimeSpan.FromSeconds(2.5), TestContext.Current.CancellationToken);
        Assert.Equal((true, null), Visits(site, "back"));

        Assert.True((await live.SnapshotAsync("")).GetProperty("visitors")[0].GetProperty("returning").ValueKind == JsonValueKind.Null);
        await Eventually.TrueAsync(async () =>
            (await live.SnapshotAsync("")).GetProperty("visitors")[0].GetProperty("visits") is { ValueKind: JsonValueKind.Number } visits
            && visits.GetInt64() == 2, Wait);
    }

    private static (bool Present, long? Visits) Visits(SitePresence site, string visitor)
    {
        lock (site.Gate)
        {
            return site.Visitors.TryGetValue(visitor, out var v) ? (true, v.Visits) : (false, null);
        }
    }

    private static string[] Ids(JsonElement snapshot) =>
        [.. snapshot.GetProperty("visitors").EnumerateArray().Select(v => v.GetProperty("visitorId").GetString()!)];

    private static LiveEvent View(string visitor, string path, string id, string title = "Page") => Event(visitor, EventTypes.Pageview, id) with
    {
        Url = "https://shop.example" + path, Path = path, Title = title,
        Company = new LiveCompany("acme-1a2b3c4d", "Acme", "acme.example"),
        Geo = new LiveGeo("DE", "Berlin", "Berlin"),
        Device = new LiveDevice("desktop", "Chrome", "Windows"),
    };

    private static LiveEvent Event(string visitor, string type, string id) => new()
    {
        EventId = id, Type = type, SiteId = TestSites.Shop, VisitorId = visitor, Timestamp = DateTimeOffset.UtcNow, ReceivedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>The query API on a real port with presence on, reading its own topic.</summary>
    private sealed class LiveApi : IAsyncDisposable
    {
        private readonly WebApplicationFactory<Program> factory;
        private readonly EventsDatabase database;

        private LiveApi(WebApplicationFactory<Program> factory, EventsDatabase database, string bootstrap, string topic) =>
            (this.factory, this.database, Bootstrap, Topic) = (factory, database, bootstrap, topic);

        public string Bootstrap { get; }

        public string Topic { get; }

        public long LastSeenId { get; set; }

        public LiveMetrics Metrics => factory.Services.GetRequiredService<LiveMetrics>();

        public PresenceBoard Board => factory.Services.GetRequiredService<PresenceBoard>();

        public PresenceConsumer Consumer => factory.Services.GetServices<IHostedService>().OfType<PresenceConsumer>().Single();

        public static async Task<LiveApi> StartAsync(DevStackFixture stack, EventsDatabase? database = null, string? resumeWindow = null)
        {
            database ??= await EventsDatabase.CreateMigratedAsync(stack);
            var topic = DevStackFixture.NewTopicName("live");
            var settings = database.Settings();
            settings["Live:Enabled"] = "true";
            settings["Live:BootstrapServers"] = stack.KafkaBootstrap;
            settings["Live:Topic"] = topic;
            settings["Live:HeartbeatSeconds"] = "1";
            settings["Live:ReplayEvents"] = "64";
            if (resumeWindow is not null)
            {
                settings["Live:ResumeWindow"] = resumeWindow;
            }

            // The topic must exist before the consumer subscribes: a first message creates it.
            using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = stack.KafkaBootstrap }).Build())
            {
                await producer.ProduceAsync(topic, new Message<byte[]?, byte[]?> { Value = "{}"u8.ToArray() }, TestContext.Current.CancellationToken);
            }

            var factory = new QueryApiFactory(settings);
            factory.UseKestrel(0);
            factory.StartServer();
            var live = new LiveApi(factory, database, stack.KafkaBootstrap, topic);
            using var client = live.Client();
            await Eventually.TrueAsync(async () => (await client.RequestAsync("/v1/sites/shop/live", bearer: TestSites.ShopRead)).StatusCode == HttpStatusCode.OK, Wait);
            return live;
        }

        public HttpClient Client() => factory.CreateClient();

        public IProducer<byte[]?, byte[]?> Producer() =>
            new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = Bootstrap, LingerMs = 0 }).Build();

        public Task ProduceAsync(IProducer<byte[]?, byte[]?> producer, LiveEvent e) => ProduceRawAsync(producer, e.VisitorId!, LiveEventCodec.Encode(e));

        public Task ProduceRawAsync(IProducer<byte[]?, byte[]?> producer, string visitor, byte[] value) =>
            producer.ProduceAsync(Topic, new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes($"{TestSites.Shop}:{visitor}"),
                Value = value,
                Headers = [new Header(EventCodec.SchemaHeader, LiveEventCodec.SchemaValue)],
            }, TestContext.Current.CancellationToken);

        public async Task<JsonElement> SnapshotAsync(string query)
        {
            using var client = Client();
            using var response = await client.RequestAsync("/v1/sites/shop/live" + query, bearer: TestSites.ShopRead);
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            return JsonDocument.Parse(body).RootElement.Clone();
        }

        public async Task<SseReader> OpenStreamAsync(long? lastEventId = null)
        {
            var client = Client();
            var request = new HttpRequestMessage(HttpMethod.Get, "/v1/sites/shop/live/stream");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestSites.ShopRead);
            if (lastEventId is { } id)
            {
                request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new SseReader(client, request, response, await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        }

        public async ValueTask DisposeAsync()
        {
            await factory.DisposeAsync();
            database.Dispose();
        }
    }
}
