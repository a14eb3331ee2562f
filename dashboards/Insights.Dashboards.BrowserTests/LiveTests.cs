using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>
/// Live: a new visitor appearing while the page is open (no reload), and an agent's Invite reaching the visitor's own
/// page as the invitation bubble. Each test has a client of its own, so no other test's visitors or rules are there.
/// </summary>
public sealed partial class LiveTests(DashboardSystem system, ITestOutputHelper output)
{
    private static readonly (string Name, string Ip, string Domain) Company = DashboardSystem.Companies[1];

    [Fact]
    public async Task A_visitor_from_a_company_appears_on_the_open_live_page_with_badge_and_score_and_moves_on()
    {
        var client = await system.NewClientAsync("live");
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/live");
        await Browser.AssertFirstPaintAsync(page, "Live", output);
        await WaitForStreamAsync(page);

        var visitor = "live-" + Guid.NewGuid().ToString("N")[..8];
        await Events.PageViewsAsync(system.Ingest, client.ServerKey, visitor, Company.Ip, "/pricing");
        var card = page.Locator($"[data-visitor='{visitor}']");
        await Assertions.Expect(card).ToBeVisibleAsync(new() { Timeout = 90_000 });
        await Assertions.Expect(card.Locator(".company")).ToHaveTextAsync(Company.Name);
        await Assertions.Expect(card.Locator(".score")).ToHaveTextAsync(Digits());
        await Assertions.Expect(card).ToContainTextAsync("/pricing");
        await Assertions.Expect(page.Locator("#live-count")).ToHaveTextAsync("1");

        await Events.PageViewsAsync(system.Ingest, client.ServerKey, visitor, Company.Ip, "/contact");
        await Assertions.Expect(card).ToContainTextAsync("/contact", new() { Timeout = 90_000 });
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "live");

        // "Companies only" hides anonymous visitors, keeps the company.
        var anonymous = "anon-" + Guid.NewGuid().ToString("N")[..8];
        await Events.PageViewsAsync(system.Ingest, client.ServerKey, anonymous, "203.0.113.9", "/");
        await Assertions.Expect(page.Locator($"[data-visitor='{anonymous}']")).ToBeVisibleAsync(new() { Timeout = 90_000 });
        await page.GetByLabel("Companies only").CheckAsync();
        await Assertions.Expect(page.Locator($"[data-visitor='{anonymous}']")).ToHaveCountAsync(0);
        await Assertions.Expect(card).ToBeVisibleAsync();
    }

    [Fact]
    public async Task An_agent_invites_a_visitor_from_the_live_page_and_the_bubble_appears_on_the_visitors_page()
    {
        var client = await system.NewClientAsync("invite");
        using var shop = new VisitorShop(system, client);
        await using var browser = await Browser.LaunchAsync();
        var agent = await browser.NewPageAsync();
        await Browser.SignInAsync(agent, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/live");
        await WaitForStreamAsync(agent);

        // A visitor on the shop's pricing page (t.js reports the page view; invite.js holds the channel open).
        var (visitorPage, visitor) = await shop.VisitAsync(browser.Chromium, "/pricing");
        output.WriteLine($"visitor {visitor}");
        var card = agent.Locator($"[data-visitor='{visitor}']");
        await Assertions.Expect(card).ToBeVisibleAsync(new() { Timeout = 90_000 });
        await Assertions.Expect(card).ToContainTextAsync("/pricing");

        // The agent's Invite: the API takes it, the stream's invitation_sent marks the visitor invited on the agent's page…
        var invite = card.GetByRole(AriaRole.Button, new() { NameRegex = InviteButton() });
        await invite.ClickAsync();
        await Assertions.Expect(card).ToContainTextAsync("Invitation sent.");
        await Assertions.Expect(card.Locator(".badge", new() { HasText = "invited" })).ToBeVisibleAsync(new() { Timeout = 90_000 });
        await Assertions.Expect(invite).ToHaveCountAsync(0); // nobody is invited twice from the list

        // …and the visitor's page shows the bubble with the agent's words.
        var bubble = visitorPage.Locator("[data-insights-invitation]");
        try
        {
            await Assertions.Expect(bubble.GetByRole(AriaRole.Dialog)).ToContainTextAsync("Hi! Can we help you with anything?", new() { Timeout = 90_000 });
        }
        catch (PlaywrightException e)
        {
            Assert.Fail($"the agent's invitation did not reach the visitor's page: {e.Message}\n{shop.Seen}");
        }

        await Browser.ScreenshotAsync(visitorPage, "live-invitation-bubble");
        await Browser.AssertAccessibleAsync(agent);
        await Browser.ScreenshotAsync(agent, "live-invited");

        // The visitor declines with Escape: the bubble goes, and the agent sees them browsing again, invitable.
        await visitorPage.Keyboard.PressAsync("Escape");
        await Assertions.Expect(bubble).ToHaveCountAsync(0);
        await Assertions.Expect(card.Locator(".badge", new() { HasText = "invited" })).ToHaveCountAsync(0, new() { Timeout = 90_000 });
        await Assertions.Expect(invite).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_busy_sites_live_page_counts_everyone_lists_the_200_most_recent_and_puts_a_newcomer_on_top()
    {
        var client = await system.NewClientAsync("busy");
        // 250 anonymous visitors: 200 arrive first, 50 after them (presence orders by when ingest received an event).
        await BusyVisitorsAsync(client, "busy-old", 200);
        await BusyVisitorsAsync(client, "busy-late", 50);

        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/live");
        await Assertions.Expect(page.Locator("#live-count")).ToHaveTextAsync("250", new() { Timeout = 90_000 });
        await WaitForStreamAsync(page);
        var cards = page.Locator(".live-list > li");
        await Assertions.Expect(cards).ToHaveCountAsync(200);
        await Assertions.Expect(page.Locator("#live-shown")).ToContainTextAsync("200 most recently seen");
        await Assertions.Expect(page.Locator("[data-visitor^='busy-late-']")).ToHaveCountAsync(50);
        await Assertions.Expect(page.Locator("[data-visitor^='busy-old-']")).ToHaveCountAsync(150);

        // A newcomer from a company: on top, counted, and the list stays 200 long.
        var visitor = "busy-new-" + Guid.NewGuid().ToString("N")[..8];
        await Events.PageViewsAsync(system.Ingest, client.ServerKey, visitor, Company.Ip, "/pricing");
        await Assertions.Expect(cards.First).ToHaveAttributeAsync("data-visitor", visitor, new() { Timeout = 90_000 });
        await Assertions.Expect(page.Locator("#live-count")).ToHaveTextAsync("251");
        await Assertions.Expect(cards).ToHaveCountAsync(200);
        await Assertions.Expect(page.Locator("[data-visitor^='busy-late-']")).ToHaveCountAsync(50);
        await Assertions.Expect(page.Locator("[data-visitor^='busy-old-']")).ToHaveCountAsync(149);
    }

    // Visitors named {prefix}-000…, one page view each, in one request, from addresses of no company.
    private async Task BusyVisitorsAsync(Client client, string prefix, int count) =>
        await Events.SendAsync(system.Ingest, client.ServerKey, Enumerable.Range(0, count).Select(i => new
        {
            type = "pageview",
            messageId = $"{prefix}-{i}-{Guid.NewGuid():N}",
            anonymousId = $"{prefix}-{i:D3}",
            context = new
            {
                ip = $"203.0.113.{(i % 254) + 1}",
                page = new { url = $"https://shop.example/p/{i}", path = $"/p/{i}", title = $"Product {i}" },
                userAgent = Events.PersonsChrome,
            },
        }).ToArray());

    // The circuit is up once the stream has been read: the status dot turns live.
    private static Task WaitForStreamAsync(IPage page) =>
        Assertions.Expect(page.Locator(".live-count .status-dot:not(.idle)")).ToBeVisibleAsync(new() { Timeout = 90_000 });

    [GeneratedRegex(@"^\d+$")]
    private static partial Regex Digits();

    [GeneratedRegex("^Invite to chat")]
    private static partial Regex InviteButton();
}
