using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>Partner home: all clients at a glance, corporate visitors across clients, switching into a client without signing in again.</summary>
public sealed class PartnerTests(DashboardSystem system, ITestOutputHelper output)
{
    private static readonly (string Name, string Ip, string Domain) Company = DashboardSystem.Companies[2];

    [Fact]
    public async Task A_partner_sees_every_client_and_their_corporate_visitors_and_switches_into_each_client()
    {
        var visitor = "partner-" + Guid.NewGuid().ToString("N")[..8];
        using var agency = await system.SignInToApiAsync(DashboardSystem.PartnerEmail, DashboardSystem.PartnerPassword);
        var listed = (await agency.GetAsync($"/v1/partners/{system.Partner}/clients")).EnumerateArray()
            .Select(c => c.GetProperty("name").GetString()!).ToList();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, DashboardSystem.PartnerEmail, DashboardSystem.PartnerPassword);
        await page.WaitForURLAsync($"**/partners/{system.Partner}");
        await Browser.AssertFirstPaintAsync(page, "Partner home", output);
        var clients = page.Locator("table.clients-table tbody tr");
        // Every client the API lists for the partner (other tests add clients of their own as they run: at least these).
        Assert.Contains("Acme Ltd", listed);
        Assert.Contains("Globex Corporation", listed);
        foreach (var name in listed)
        {
            await Assertions.Expect(clients.Filter(new() { HasTextString = name }).First).ToBeVisibleAsync();
        }

        await Assertions.Expect(clients.Filter(new() { HasTextString = "Acme Ltd" })).ToContainTextAsync("Acme shop");
        await Assertions.Expect(clients.Filter(new() { HasTextString = "Globex Corporation" })).ToContainTextAsync("Globex store");

        // A corporate visitor on a client's site appears on the partner's live list, naming the client.
        await Assertions.Expect(page.Locator(".live-count .status-dot:not(.idle)")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Events.PageViewsAsync(system.Ingest, system.ServerKeys[DashboardSystem.GlobexSite], visitor, Company.Ip, "/demo");
        var card = page.Locator($"[data-visitor='{visitor}']");
        await Assertions.Expect(card).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(card).ToContainTextAsync("Globex Corporation");
        await Assertions.Expect(card.Locator(".company")).ToHaveTextAsync(Company.Name);
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "partner-home");

        // Into a client, and across to the other, with the same sign-in.
        await page.GetByRole(AriaRole.Link, new() { Name = "Globex store", Exact = true }).ClickAsync();
        await page.WaitForURLAsync($"**/sites/{DashboardSystem.GlobexSite}/overview");
        // Enhanced navigation changes the address before the new page arrives: wait for the page itself.
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Globex store");
        await Assertions.Expect(page.Locator(".stat").First).ToBeVisibleAsync();
        await page.GetByText("Site: Globex store").ClickAsync();
        // By address: other tests' clients come and go in the partner's switcher, and their names are theirs to choose.
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Sites and partners" }).Locator($"a[href='/sites/{DashboardSystem.AcmeSite}/overview']").ClickAsync();
        await page.WaitForURLAsync($"**/sites/{DashboardSystem.AcmeSite}/overview");
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Acme shop");
        await Assertions.Expect(page.Locator(".stat").First).ToBeVisibleAsync();
        Assert.DoesNotContain("/sign-in", page.Url, StringComparison.Ordinal);
        await Browser.ScreenshotAsync(page, "partner-switched-to-acme");
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Site" }).GetByRole(AriaRole.Link, new() { Name = "Companies" }).ClickAsync();
        await Browser.WaitForAsync(page, $"**/sites/{DashboardSystem.AcmeSite}/companies");
        await Browser.AssertAccessibleAsync(page);
    }

    [Fact]
    public async Task An_owner_cannot_open_the_partner_home()
    {
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, DashboardSystem.OwnerEmail, DashboardSystem.OwnerPassword);
        await page.GotoAsync(new Uri(system.Dashboard, $"/partners/{system.Partner}").ToString());
        await Assertions.Expect(page.GetByRole(AriaRole.Alert).First).ToContainTextAsync("Not found");
        Assert.Equal(0, await page.GetByText("Globex").CountAsync());
    }
}
