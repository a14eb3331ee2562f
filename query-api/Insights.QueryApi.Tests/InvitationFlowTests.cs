using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ClickHouse.Driver;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.ControlPlane.Model;
using Insights.DevStack.Testing;
using Insights.QueryApi.Live;
using Insights.QueryApi.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Insights.QueryApi.Tests;

/// <summary>
/// Invitations on the dev stack: rules managed over HTTP by the people allowed to, an agent's invitation recorded through
/// a real Kafka topic and seen on the stream, the declines looked up in ClickHouse, and the funnel's numbers.
/// </summary>
public sealed class InvitationFlowTests(DevStackFixture stack)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static readonly object PricingRule = new
    {
        id = "pricing", name = "Pricing — 価格", action = "auto_invite", message = "Fragen zum Preis? 👋",
        when = new { all = new object[] { new { kind = "current_url", pattern = "/pricing*" }, new { kind = "time_on_page", min = 1 } } },
    };

    [Fact]
    public async Task Admins_manage_rules_over_http_agents_and_keys_cannot_and_hostile_rules_are_refused_with_a_reason()
    {
        await using var host = new AccountsHost(stack);
        await host.InitializeAsync();
        await host.PersonAsync("admin@shop.example", roles: (ScopeKind.Site, TestSites.Shop, Role.Admin));
        await host.PersonAsync("agent@shop.example", roles: (ScopeKind.Site, TestSites.Shop, Role.Agent));
        using var admin = await SignedInAsync(host, "admin@shop.example");
        using var agent = await SignedInAsync(host, "agent@shop.example");

        var put = await admin.JsonAsync(HttpMethod.Put, "/v1/sites/shop/invitation-rules", new[] { PricingRule });
        Assert.Equal("pricing", put.GetProperty("rules")[0].GetProperty("id").GetString());
        await admin.JsonAsync(HttpMethod.Put, "/v1/sites/shop/invitation-rules/target", new
        {
            name = "Target account", action = "suggest", when = new { kind = "target_account" },
        });
        var listed = await admin.JsonAsync(HttpMethod.Get, "/v1/sites/shop/invitation-rules");
        Assert.Equal(["pricing", "target"], listed.GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        Assert.Equal("Fragen zum Preis? 👋", listed.GetProperty("rules")[0].GetProperty("message").GetString());

        // The live catalog follows the store: presence evaluates the new rules without a restart.
        var catalog = host.Api.Services.GetRequiredService<SiteCatalog>();
        await Eventually.TrueAsync(() => Task.FromResult(catalog.FindById(TestSites.Shop)?.Invitations.Count == 2), Wait);

        await admin.JsonAsync(HttpMethod.Delete, "/v1/sites/shop/invitation-rules/target");
        Assert.Equal("rule_not_found", (await admin.JsonAsync(HttpMethod.Delete, "/v1/sites/shop/invitation-rules/target", expected: HttpStatusCode.NotFound))
            .GetProperty("reason").GetString());

        // Hostile: nothing of it is stored, and the answer says what is wrong.
        var refused = await admin.JsonAsync(HttpMethod.Put, "/v1/sites/shop/invitation-rules",
            new[] { new { id = "x", name = "no message", action = "auto_invite", when = new { kind = "lead_score", min = 500 } } }, HttpStatusCode.BadRequest);
        var errors = refused.GetProperty("errors");
        Assert.Contains("needs a message", errors.GetProperty("Invitations:0:Message")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("lead scores run 0-100", errors.GetProperty("Invitations:0:When:Min")[0].GetString());
        Assert.Equal("invalid_parameters", refused.GetProperty("reason").GetString());
        await admin.JsonAsync(HttpMethod.Put, "/v1/sites/shop/invitation-rules", "[{\"id\":\"x\",", HttpStatusCode.BadRequest);
        var tooMany = Enumerable.Range(0, 51).Select(i => new { id = $"r{i}", name = "r", when = new { kind = "exit_intent" } });
        await admin.JsonAsync(HttpMethod.Put, "/v1/sites/shop/invitation-rules", tooMany, HttpStatusCode.BadRequest);
        var huge = "[" + string.Join(",", Enumerable.Repeat("{\"id\":\"a\",\"name\":\"" + new string('x', 1000) + "\"}", 300)) + "]";
        await admin.JsonAsync(HttpMethod.Put, "/v1/sites/shop/invitation-rules", huge, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(["pricing"], (await admin.JsonAsync(HttpMethod.Get, "/v1/sites/shop/invitation-rules")).GetProperty("rules").EnumerateArray()
            .Select(r => r.GetProperty("id").GetString()));

        // Who may: an agent invites but does not change rules; a read key does neither; another tenant's site is not found.
        var forbidden = await agent.JsonAsync(HttpMethod.Put, "/v1/sites/shop/invitation-rules", new[] { PricingRule }, HttpStatusCode.Forbidden);
        Assert.Equal("role_insufficient", forbidden.GetProperty("reason").GetString());
        await admin.JsonAsync(HttpMethod.Get, "/v1/sites/other/invitation-rules", expected: HttpStatusCode.NotFound);
        using var anonymous = host.NewBrowser();
        var keyed = await anonymous.JsonAsync(HttpMethod.Post, "/v1/sites/shop/live/visitors/v1/invite", new { message = "hi" }, HttpStatusCode.Forbidden, bearer: TestSites.ShopRead);
        Assert.Equal("key_cannot_manage", keyed.GetProperty("reason").GetString());
        // Described for integrators.
        var paths = (await anonymous.JsonAsync(HttpMethod.Get, "/openapi/v1.json")).GetProperty("paths");
        Assert.Contains("Kafka", paths.GetProperty("/v1/sites/{site}/live/visitors/{visitor}/invite").GetProperty("post").GetProperty("description").GetString(),
            StringComparison.Ordinal);
        Assert.Contains("accepted", paths.GetProperty("/v1/sites/{site}/invitations/funnel").GetProperty("get").GetProperty("description").GetString(),
            StringComparison.Ordinal);
        Assert.Contains("url_funnel", paths.GetProperty("/v1/sites/{site}/invitation-rules").GetProperty("put").GetProperty("description").GetString(),
            StringComparison.Ordinal);

        // Presence is off in this host: an agent is told so.
        var off = await agent.JsonAsync(HttpMethod.Post, "/v1/sites/shop/live/visitors/v1/invite", new { message = "hi" }, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("live_disabled", off.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task An_agents_invitation_goes_through_kafka_to_every_instances_stream_and_declines_are_looked_up_in_storage()
    {
        var database = await EventsDatabase.CreateMigratedAsync(stack);
        var (enriched, events) = (DevStackFixture.NewTopicName("live"), DevStackFixture.NewTopicName("events"));
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = stack.KafkaBootstrap, LingerMs = 0 }).Build();
        foreach (var topic in new[] { enriched, events })
        {
            await producer.ProduceAsync(topic, new Message<byte[]?, byte[]?> { Value = "{}"u8.ToArray() }, Http.Ct);
        }

        // The visitor declined the pricing rule yesterday: storage knows, and the rule pauses for them.
        using (var clickhouse = new ClickHouseClient(stack.ConnectionString(database.Name)))
        {
            var yesterday = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
            await clickhouse.ExecuteNonQueryAsync(
                "INSERT INTO events (event_id, site_id, type, name, timestamp, received_at, anonymous_id, properties) VALUES " +
                $"('d1', 'shop', 'track', 'invitation_declined', '{yesterday}', '{yesterday}', 'declined', '{{\"invitation_id\":\"r-old\",\"rule_id\":\"pricing\"}}')",
                cancellationToken: Http.Ct);
        }

        var settings = database.Settings();
        settings["Live:Enabled"] = "true";
        settings["Live:BootstrapServers"] = stack.KafkaBootstrap;
        settings["Live:Topic"] = enriched;
        settings["Live:HeartbeatSeconds"] = "1";
        settings["Invitations:BootstrapServers"] = stack.KafkaBootstrap;
        settings["Invitations:EventsTopic"] = events;
        settings["Sites:0:Invitations:0:Id"] = "pricing";
        settings["Sites:0:Invitations:0:Name"] = "Pricing";
        settings["Sites:0:Invitations:0:Action"] = "auto_invite";
        settings["Sites:0:Invitations:0:Message"] = "Fragen?";
        settings["Sites:0:Invitations:0:When:Kind"] = "current_url";
        settings["Sites:0:Invitations:0:When:Pattern"] = "/pricing";
        settings["Sites:0:Invitations:1:Id"] = "docs";
        settings["Sites:0:Invitations:1:Name"] = "Reads the docs";
        settings["Sites:0:Invitations:1:When:Kind"] = "visited_url";
        settings["Sites:0:Invitations:1:When:Pattern"] = "/docs*";
        await using var api = new QueryApiFactory(settings);
        api.UseKestrel(0);
        api.StartServer();
        var agentId = await AccountsHost.PersonAsync(api.Services, "agent@shop.example", roles: (ScopeKind.Site, TestSites.Shop, Role.Agent));
        var token = await AccountsHost.TokenAsync(api.Services, agentId);
        using var client = api.CreateClient();
        await Eventually.TrueAsync(async () => (await client.RequestAsync("/v1/sites/shop/live", bearer: TestSites.ShopRead)).StatusCode == HttpStatusCode.OK, Wait);

        await using var stream = await OpenStreamAsync(api);
        Assert.Equal(LiveEventNames.Snapshot, (await stream.NextAsync()).Event);
        await ProduceAsync(producer, enriched, View("v1", "/docs", "e1"));
        Assert.Equal(LiveEventNames.Joined, (await stream.NextAsync()).Event);
        var suggested = await NextNamedAsync(stream, LiveEventNames.InvitationSuggested);
        Assert.Equal(("v1", "docs", "visited /docs*"), (suggested.GetProperty("visitorId").GetString(), suggested.GetProperty("rule").GetString(),
            suggested.GetProperty("reason").GetString()));

        // Someone not on the site, a visitor id no tracker makes, a message that is not text: refused before anything is recorded.
        Assert.Equal(HttpStatusCode.NotFound, await AgentPostAsync(client, token, "/v1/sites/shop/live/visitors/nobody/invite", """{"message":"hi"}"""));
        Assert.Equal(HttpStatusCode.NotFound, await AgentPostAsync(client, token, "/v1/sites/shop/live/visitors/" + new string('v', 300) + "/invite", """{"message":"hi"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await AgentPostAsync(client, token, "/v1/sites/shop/live/visitors/v1/invite", """{"message":"\u0007"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await AgentPostAsync(client, token, "/v1/sites/shop/live/visitors/v1/invite", "{\"message\":\"" + new string('x', 501) + "\"}"));
        using var invite = new HttpRequestMessage(HttpMethod.Post, "/v1/sites/shop/live/visitors/v1/invite")
        {
            Content = new StringContent("""{"message":"Hallo 👋 — can I help?"}""", Encoding.UTF8, "application/json"),
        };
        invite.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var accepted = await client.SendAsync(invite, Http.Ct);
        var body = await accepted.Content.ReadAsStringAsync(Http.Ct);
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, body);
        var invitationId = JsonDocument.Parse(body).RootElement.GetProperty("invitationId").GetString()!;

        // On the events topic, as the processors will read it: a track event of the visitor with the invitation's id.
        var recorded = ReadEvents(events, e => e.Name == InvitationEvents.Sent).Single();
        Assert.Equal((EventTypes.Track, "v1", TestSites.Shop), (recorded.Type, recorded.AnonymousId, recorded.SiteId));
        Assert.Equal(invitationId, recorded.Properties!.Value.GetProperty("invitation_id").GetString());
        Assert.Equal("Hallo 👋 — can I help?", recorded.Properties!.Value.GetProperty("message").GetString());

        // What the processors publish for it reaches presence: every instance's stream shows it, the chat state moves.
        await ProduceAsync(producer, enriched, Event("v1", EventTypes.Track, recorded.EventId) with
        {
            Name = InvitationEvents.Sent, Invitation = new LiveInvitation(invitationId, null, "Hallo 👋 — can I help?"),
        });
        var sent = await NextNamedAsync(stream, LiveEventNames.InvitationSent);
        Assert.Equal((invitationId, "invited"), (sent.GetProperty("invitationId").GetString(), sent.GetProperty("chatState").GetString()));

        // The agent dismisses the suggestion: recorded the same way, and gone from the visitor once it comes back.
        Assert.Equal(HttpStatusCode.NotFound, await AgentPostAsync(client, token, "/v1/sites/shop/live/visitors/v1/dismiss", """{"rule":"pricing"}"""));
        Assert.Equal(HttpStatusCode.NoContent, await AgentPostAsync(client, token, "/v1/sites/shop/live/visitors/v1/dismiss", """{"rule":"docs"}"""));
        var dismissal = ReadEvents(events, e => e.Name == InvitationEvents.Dismissed).Single();
        await ProduceAsync(producer, enriched, Event("v1", EventTypes.Track, dismissal.EventId) with
        {
            Name = InvitationEvents.Dismissed, Invitation = new LiveInvitation(dismissal.Properties!.Value.GetProperty("invitation_id").GetString()!, "docs"),
        });
        Assert.Equal("docs", (await NextNamedAsync(stream, LiveEventNames.InvitationDismissed)).GetProperty("rule").GetString());
        Assert.Equal(0, (await NextNamedAsync(stream, LiveEventNames.Updated)).GetProperty("suggestions").GetArrayLength());

        // A visitor who declined the pricing rule yesterday is not invited by it; one who did not is, once.
        await ProduceAsync(producer, enriched, View("declined", "/pricing", "e2"));
        await ProduceAsync(producer, enriched, View("fresh", "/pricing", "e3"));
        // Waited for by what it is (a rule's invitation to "fresh"), not by a count of sent events: the agent's own
        // invitation can be on the topic more than once (each instance records it, with one id), which once made the
        // count reach 2 before the declines lookup had let the rule fire on a loaded machine.
        List<PipelineEvent> RuleInvitations() =>
            [.. ReadEvents(events, e => e.Name == InvitationEvents.Sent).Where(e => e.Properties!.Value.TryGetProperty("rule_id", out _))];
        await Eventually.TrueAsync(() => Task.FromResult(RuleInvitations().Any(e => e.AnonymousId == "fresh")), Wait);
        await Task.Delay(TimeSpan.FromSeconds(2), Http.Ct);
        var byRule = RuleInvitations();
        Assert.Equal(["fresh"], byRule.Select(e => e.AnonymousId));
        Assert.StartsWith("invitation_sent:r-", byRule[0].EventId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_funnel_counts_each_invitation_once_per_rule_from_sent_to_revenue()
    {
        var database = await EventsDatabase.CreateMigratedAsync(stack);
        var at = new DateTime(2026, 11, 10, 10, 0, 0, DateTimeKind.Utc);
        string T(double minutes) => at.AddMinutes(minutes).ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
        string E(string id, string name, double minutes, string visitor, string invitation, string rule, string session = "", string site = "shop") =>
            $"('{id}', '{site}', 'track', '{name}', '{T(minutes)}', '{T(minutes)}', '{visitor}', '{session}', " +
            $"'{{\"invitation_id\":\"{invitation}\"{(rule.Length > 0 ? $",\"rule_id\":\"{rule}\"" : "")}}}')";
        using (var clickhouse = new ClickHouseClient(stack.ConnectionString(database.Name)))
        {
            string[] rows =
            [
                // i1: sent by two instances (two copies), shown, accepted; then a chat, a goal and an order.
                E("s1a", "invitation_sent", 0, "ann", "i1", "pricing"), E("s1b", "invitation_sent", 0.01, "ann", "i1", "pricing"),
                E("h1", "invitation_shown", 0.1, "ann", "i1", "pricing"), E("a1", "invitation_accepted", 0.5, "ann", "i1", "pricing", "sess-ann"),
                // i2: declined. i3: sent only. i4: accepted, but its chat was before and its order after the window.
                E("s2", "invitation_sent", 1, "bob", "i2", "pricing"), E("h2", "invitation_shown", 1.1, "bob", "i2", "pricing"),
                E("d2", "invitation_declined", 1.2, "bob", "i2", "pricing"),
                E("s3", "invitation_sent", 2, "cat", "i3", "pricing"),
                E("s4", "invitation_sent", 3, "dan", "i4", "pricing"), E("h4", "invitation_shown", 3.1, "dan", "i4", "pricing"),
                E("a4", "invitation_accepted", 3.5, "dan", "i4", "pricing", "sess-dan"),
                // An agent's invitation, accepted, and an order.
                E("s5", "invitation_sent", 4, "eve", "a-1", ""), E("h5", "invitation_shown", 4.1, "eve", "a-1", ""),
                E("a5", "invitation_accepted", 4.2, "eve", "a-1", "", "sess-eve"),
                // Outside: before the range; another site's.
                E("s6", "invitation_sent", -60 * 24 * 3, "old", "i6", "pricing"),
                E("s7", "invitation_sent", 5, "ann", "i7", "pricing", site: "other"),
            ];
            await clickhouse.ExecuteNonQueryAsync(
                "INSERT INTO events (event_id, site_id, type, name, timestamp, received_at, anonymous_id, session_id, properties) VALUES " + string.Join(",", rows),
                cancellationToken: Http.Ct);
            await clickhouse.ExecuteNonQueryAsync(
                "INSERT INTO sessions (session_id, site_id, anonymous_id, started_at, ended_at) VALUES " +
                $"('sess-ann', 'shop', 'ann', '{T(-5)}', '{T(20)}'), ('sess-dan', 'shop', 'dan', '{T(-5)}', '{T(10)}'), ('sess-eve', 'shop', 'eve', '{T(-5)}', '{T(10)}')",
                cancellationToken: Http.Ct);
            await clickhouse.ExecuteNonQueryAsync(
                "INSERT INTO chats (site_id, chat_id, anonymous_id, started_at, last_event_at, version) VALUES " +
                $"('shop', 'c1', 'ann', '{T(2)}', '{T(2)}', 1), ('shop', 'c4', 'dan', '{T(3)}', '{T(3)}', 1), ('shop', 'c9', 'ann', '{T(60 * 5)}', '{T(60 * 5)}', 1)",
                cancellationToken: Http.Ct);
            await clickhouse.ExecuteNonQueryAsync(
                "INSERT INTO goal_completions (site_id, goal_id, key, timestamp, node, anonymous_id, value, version) VALUES " +
                $"('shop', 'signup', 'k1', '{T(30)}', 'ann', 'ann', 0, 1)",
                cancellationToken: Http.Ct);
            await clickhouse.ExecuteNonQueryAsync(
                "INSERT INTO orders (site_id, order_id, anonymous_id, placed_at, currency, amount, net, reporting_currency, amount_reporting, net_reporting, version) VALUES " +
                $"('shop', 'o1', 'ann', '{T(40)}', 'EUR', 100, 100, 'USD', 108, 108, 1), " +
                $"('shop', 'o4', 'dan', '{T(60 * 24 * 8)}', 'EUR', 70, 70, 'USD', 75.6, 75.6, 1), " +
                $"('shop', 'o5', 'eve', '{T(20)}', 'USD', 50.25, 50.25, 'USD', 50.25, 50.25, 1)",
                cancellationToken: Http.Ct);
        }

        var settings = database.Settings();
        settings["Sites:0:Invitations:0:Id"] = "pricing";
        settings["Sites:0:Invitations:0:Name"] = "Pricing";
        settings["Sites:0:Invitations:1:Id"] = "quiet";
        settings["Sites:0:Invitations:1:Name"] = "Never fired";
        await using var api = new QueryApiFactory(settings);
        using var client = api.CreateClient();
        using var response = await client.RequestAsync("/v1/sites/shop/invitations/funnel?from=2026-11-09&to=2026-11-12", bearer: TestSites.ShopRead);
        var text = await response.Content.ReadAsStringAsync(Http.Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var rows2 = JsonDocument.Parse(text).RootElement.GetProperty("rules").EnumerateArray().ToDictionary(r => r.GetProperty("rule").GetString()!);

        Assert.Equal(["pricing", "quiet", "agent"], rows2.Keys);
        var pricing = rows2["pricing"];
        Assert.Equal((4L, 3L, 2L, 1L, 1L, 1L, 1L, 108m),
            (pricing.GetProperty("sent").GetInt64(), pricing.GetProperty("shown").GetInt64(), pricing.GetProperty("accepted").GetInt64(),
             pricing.GetProperty("declined").GetInt64(), pricing.GetProperty("chatsStarted").GetInt64(), pricing.GetProperty("goalsCompleted").GetInt64(),
             pricing.GetProperty("orders").GetInt64(), pricing.GetProperty("revenue").GetDecimal()));
        Assert.Equal(2.0 / 3, pricing.GetProperty("acceptanceRate").GetDouble(), 5);
        var agent = rows2["agent"];
        Assert.Equal((1L, 1L, 1L, 0L, 1L, 50.25m), (agent.GetProperty("sent").GetInt64(), agent.GetProperty("shown").GetInt64(),
            agent.GetProperty("accepted").GetInt64(), agent.GetProperty("chatsStarted").GetInt64(), agent.GetProperty("orders").GetInt64(), agent.GetProperty("revenue").GetDecimal()));
        Assert.Equal(0, rows2["quiet"].GetProperty("sent").GetInt64());

        // Reports' access rules: another site's key is a 404, a write key cannot read.
        using var other = await client.RequestAsync("/v1/sites/shop/invitations/funnel", bearer: TestSites.OtherRead);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using var write = await client.RequestAsync("/v1/sites/shop/invitations/funnel", bearer: TestSites.ShopWrite);
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        using var bad = await client.RequestAsync("/v1/sites/shop/invitations/funnel?from=yesterday", bearer: TestSites.ShopRead);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    private static async Task<HttpStatusCode> AgentPostAsync(HttpClient client, string token, string url, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request, Http.Ct);
        return response.StatusCode;
    }

    // The next stream event of this name (visit counts and other updates come in between).
    private static async Task<JsonElement> NextNamedAsync(SseReader stream, string name)
    {
        while (true)
        {
            var next = await stream.NextAsync();
            if (next.Event == name)
            {
                return next.Data;
            }
        }
    }

    private static async Task<Browser> SignedInAsync(AccountsHost host, string email)
    {
        var browser = host.NewBrowser();
        using (var signedIn = await browser.SignInAsync(email))
        {
            Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        }

        await browser.CsrfAsync();
        return browser;
    }

    private List<PipelineEvent> ReadEvents(string topic, Func<PipelineEvent, bool> which)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = stack.KafkaBootstrap, GroupId = "read-" + Guid.NewGuid().ToString("N"), AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var found = new List<PipelineEvent>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } result)
            {
                // Done when every partition is read to its end (an empty one is at its end unread); a quiet poll alone
                // is not the end, as another partition's messages may not have been fetched yet.
                if (consumer.Assignment.Count > 0 && consumer.Assignment.All(p =>
                    consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(5)) is var w && (w.High == w.Low || consumer.Position(p) >= w.High)))
                {
                    break;
                }

                continue;
            }

            if (EventCodec.Decode(result.Message.Value).Event is { } e && which(e))
            {
                found.Add(e);
            }
        }

        consumer.Close();
        return found;
    }

    private static Task ProduceAsync(IProducer<byte[]?, byte[]?> producer, string topic, LiveEvent e) =>
        producer.ProduceAsync(topic, new Message<byte[]?, byte[]?>
        {
            Key = Encoding.UTF8.GetBytes($"{e.SiteId}:{e.VisitorId}"),
            Value = LiveEventCodec.Encode(e),
            Headers = [new Header(EventCodec.SchemaHeader, LiveEventCodec.SchemaValue)],
        }, Http.Ct);

    private static async Task<SseReader> OpenStreamAsync(QueryApiFactory api)
    {
        var client = api.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/sites/shop/live/stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestSites.ShopRead);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Http.Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new SseReader(client, request, response, await response.Content.ReadAsStreamAsync(Http.Ct));
    }

    private static LiveEvent View(string visitor, string path, string id) => Event(visitor, EventTypes.Pageview, id) with
    {
        Url = "https://shop.example" + path, Path = path, Title = "Page",
        Visit = new LiveVisit("sess-" + visitor, DateTimeOffset.UtcNow, 1, "direct", null, null),
    };

    private static LiveEvent Event(string visitor, string type, string id) => new()
    {
        EventId = id, Type = type, SiteId = TestSites.Shop, VisitorId = visitor, Timestamp = DateTimeOffset.UtcNow, ReceivedAt = DateTimeOffset.UtcNow,
    };
}
