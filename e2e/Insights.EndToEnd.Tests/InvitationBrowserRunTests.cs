using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Insights.DevStack.Testing;
using Microsoft.Playwright;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// Issue 10's headline through <c>scripts/run.sh</c>, as people meet it: a partner admin sets an auto-invitation rule on
/// a new client's site over HTTP; a visitor browsing the client's shop in Chromium (<c>t.js</c> + <c>invite.js</c>) gets
/// the invitation bubble on the pricing page and accepts it with the keyboard; an agent reading the live stream sees the
/// visitor join, the invitation sent and accepted; an agent's own invitation reaches the page too and is declined with
/// Escape; the funnel counts both.
/// </summary>
public sealed class InvitationBrowserRunTests(ITestOutputHelper output)
{
    private const string Message = "Fragen zum Preis? Wir helfen gern 🥨";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_rule_set_by_the_partner_invites_a_visitor_on_the_pricing_page_who_accepts_with_the_keyboard_and_the_agent_and_funnel_see_it()
    {
        await using var system = await RunningSystem.StartAsync("invite-browser");
        var (ingest, query, environment) = (system.Ingest, system.Query, system.Environment);

        // 1. The partner admin: bootstrap, accept, provision a client, set its site's rule.
        using var provisioned = await RunAccounts.ProvisionAsync(environment, query, ClientPlan.Baeckerei);
        var (agency, writeKey, readKey) = (provisioned.Agency, provisioned.WriteKey, provisioned.ReadKey);
        await agency.JsonAsync(HttpMethod.Put, "/v1/sites/baeckerei/invitation-rules", new object[]
        {
            new
            {
                id = "pricing", name = "Pricing", action = "auto_invite", message = Message,
                when = new { all = new object[] { new { kind = "current_url", pattern = "/pricing" }, new { kind = "pages_viewed", min = 2 } } },
            },
        });

        // 2. The agent's stream (the query API knows the new site's keys once it answers 200), and ingest taking the
        // new write key, before the visitor's page loads: invite.js gives up for good on a 404 from the channel.
        using var http = new HttpClient { BaseAddress = query, Timeout = Timeout.InfiniteTimeSpan };
        using var stream = await InvitationRunTests.OpenStreamAsync(http, readKey);
        await InvitationRunTests.EventuallySentAsync(ingest, writeKey, $"warm-{Guid.NewGuid():N}", "/");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--disable-gpu", "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--no-sandbox"],
        });
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { UserAgent = InvitationVisitorRunTests.PersonsChrome });
        var page = await context.NewPageAsync();
        var channel = $"{query}v1/sites/baeckerei/visitor/invitations";
        using var shop = InvitationVisitorRunTests.ShopPage($"""
            <!doctype html><html lang="de"><head><meta charset="utf-8"><title>Bäckerei</title>
            <script defer data-site-key="{writeKey}" src="{ingest}t.js"></script>
            <script async data-site-key="{writeKey}" data-channel="{channel}" src="{ingest}invite.js"></script>
            </head><body><main><h1>Bäckerei</h1><p>Brot, Brezeln, Kuchen.</p></main></body></html>
            """, out var shopUrl);
        var origin = shopUrl[..shopUrl.IndexOf("/shop/", StringComparison.Ordinal)];

        var seen = new ConcurrentQueue<string>();
        page.Console += (_, message) => seen.Enqueue($"console {message.Type}: {message.Text}");
        page.PageError += (_, error) => seen.Enqueue($"error: {error}");
        page.RequestFailed += (_, request) => seen.Enqueue($"failed {request.Url}: {request.Failure}");
        page.Response += (_, response) => seen.Enqueue($"{response.Status} {response.Url}");
        string Seen() => string.Join('\n', seen);

        // 3. A first page: the visitor joins, its channel opens, and no rule holds yet.
        await page.GotoAsync($"{origin}/");
        await WaitForChannelAsync(seen, channel, Seen);
        var visitor = await page.EvaluateAsync<string>("() => window.insights.visitorId()");
        output.WriteLine($"visitor {visitor}");
        await InvitationRunTests.NextForAsync(stream, visitor, "visitor_joined");
        var bubble = page.Locator("[data-insights-invitation]");
        await Task.Delay(2000, Ct);
        Assert.Equal(0, await bubble.CountAsync());

        // Then the pricing page: the bubble with the rule's message, the agent sees the invitation sent.
        seen.Clear();
        await page.GotoAsync($"{origin}/pricing");
        var sent = await InvitationRunTests.NextForAsync(stream, visitor, "invitation_sent");
        Assert.Equal(("pricing", Message, "invited"),
            (sent.GetProperty("rule").GetString(), sent.GetProperty("message").GetString(), sent.GetProperty("chatState").GetString()));
        var invitation = sent.GetProperty("invitationId").GetString()!;
        var dialog = bubble.GetByRole(AriaRole.Dialog);
        try
        {
            await Assertions.Expect(dialog).ToContainTextAsync(Message, new() { Timeout = 15_000 });
        }
        catch (PlaywrightException e)
        {
            Assert.Fail($"no bubble with the rule's message for {invitation}: {e.Message}\n{Seen()}");
        }

        Assert.Equal(invitation, await bubble.GetAttributeAsync("data-insights-invitation"));

        // The visitor accepts with the keyboard: Tab reaches "Chat now" (the bubble never took focus), Enter.
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Chat now", await page.EvaluateAsync<string?>(
            "() => document.querySelector('[data-insights-invitation]')?.shadowRoot?.activeElement?.textContent ?? null"));
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(bubble).ToHaveCountAsync(0);
        var accepted = await InvitationRunTests.NextForAsync(stream, visitor, "invitation_accepted");
        Assert.Equal((invitation, "pricing"), (accepted.GetProperty("invitationId").GetString(), accepted.GetProperty("rule").GetString()));

        // An agent's own invitation (through Kafka and the processors) reaches the same page; Escape declines it.
        var own = await agency.JsonAsync(HttpMethod.Post, $"/v1/sites/baeckerei/live/visitors/{visitor}/invite",
            new { message = "Hallo! Darf ich helfen? ☕" }, HttpStatusCode.Accepted);
        var agentInvitation = own.GetProperty("invitationId").GetString()!;
        var agentSent = await InvitationRunTests.NextForAsync(stream, visitor, "invitation_sent");
        Assert.Equal(agentInvitation, agentSent.GetProperty("invitationId").GetString());
        Assert.Equal(JsonValueKind.Null, agentSent.GetProperty("rule").ValueKind);
        try
        {
            await Assertions.Expect(dialog).ToContainTextAsync("Hallo! Darf ich helfen? ☕", new() { Timeout = 15_000 });
        }
        catch (PlaywrightException e)
        {
            Assert.Fail($"the agent's invitation {agentInvitation} did not reach the page: {e.Message}\n{Seen()}");
        }

        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(bubble).ToHaveCountAsync(0);
        var declined = await InvitationRunTests.NextForAsync(stream, visitor, "invitation_declined");
        Assert.Equal(agentInvitation, declined.GetProperty("invitationId").GetString());

        // The funnel: each invitation once, through Kafka, the processors and ClickHouse.
        static long Count(JsonElement row, string name) => row.ValueKind == JsonValueKind.Object ? row.GetProperty(name).GetInt64() : 0;
        await InvitationRunTests.WaitForFunnelAsync(http, readKey, TimeSpan.FromSeconds(120), "the invitation shown and accepted", rules =>
        {
            var pricing = rules.Single(r => r.GetProperty("rule").GetString() == "pricing");
            var agent = rules.SingleOrDefault(r => r.GetProperty("rule").GetString() == "agent");
            return Count(pricing, "sent") >= 1 && Count(pricing, "shown") == 1 && Count(pricing, "accepted") == 1
                && Count(agent, "sent") == 1 && Count(agent, "shown") == 1 && Count(agent, "declined") == 1 && Count(agent, "accepted") == 0;
        });
    }

    private static async Task WaitForChannelAsync(ConcurrentQueue<string> seen, string channel, Func<string> page)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!seen.Any(line => line.StartsWith("200 " + channel, StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the invitation channel did not open:\n{page()}");
            await Task.Delay(250, Ct);
        }
    }
}
