using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>Live: who is on the site now, and a new visitor appearing while the page is open (no reload).</summary>
public sealed class LiveTests(DashboardSystem system, ITestOutputHelper output)
{
    private static readonly (string Name, string Ip, string Domain) Company = DashboardSystem.Companies[1];

    [Fact]
    public async Task A_visitor_from_a_company_appears_on_the_open_live_page_with_badge_and_score_and_moves_on()
    {
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, DashboardSystem.OwnerEmail, DashboardSystem.OwnerPassword, $"/sites/{DashboardSystem.AcmeSite}/live");
        await Browser.AssertFirstPaintAsync(page, "Live", output);
        // The circuit is up once the stream has been read: the status dot turns live.
        await Assertions.Expect(page.Locator(".live-count .status-dot:not(.idle)")).ToBeVisibleAsync(new() { Timeout = 60_000 });

        var visitor = "live-" + Guid.NewGuid().ToString("N")[..8];
        await Events.PageViewsAsync(system.Ingest, system.ServerKeys[DashboardSystem.AcmeSite], visitor, Company.Ip, "/pricing");
        var card = page.Locator($"[data-visitor='{visitor}']");
        await Assertions.Expect(card).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(card.Locator(".company")).ToHaveTextAsync(Company.Name);
        await Assertions.Expect(card.Locator(".score")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+$"));
        await Assertions.Expect(card).ToContainTextAsync("/pricing");

        await Events.PageViewsAsync(system.Ingest, system.ServerKeys[DashboardSystem.AcmeSite], visitor, Company.Ip, "/contact");
        await Assertions.Expect(card).ToContainTextAsync("/contact", new() { Timeout = 60_000 });
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "live");

        // "Companies only" hides anonymous visitors, keeps the company.
        await page.GetByLabel("Companies only").CheckAsync();
        await Assertions.Expect(card).ToBeVisibleAsync();
    }
}
