using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>Companies: the lead list with the API's scores, search and score filter, and a company's timeline.</summary>
public sealed class CompaniesTests(DashboardSystem system, ITestOutputHelper output)
{
    private static readonly (string Name, string Ip, string Domain) Company = DashboardSystem.Companies[0];
    private static readonly (string Name, string Ip, string Domain) Other = DashboardSystem.Companies[2];

    [Fact]
    public async Task An_owner_finds_a_company_with_the_APIs_score_searches_and_reads_its_visits()
    {
        var client = await system.NewClientAsync("companies");
        await Events.PageViewsAsync(system.Ingest, client.ServerKey, "co-visitor-1", Company.Ip, "/", "/pricing", "/contact");
        await Events.PageViewsAsync(system.Ingest, client.ServerKey, "co-visitor-2", Other.Ip, "/jobs");
        using var owner = await system.SignInToApiAsync(client.OwnerEmail, client.OwnerPassword);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var range = $"from={today.AddDays(-29):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}";
        var company = await Eventually.ElementAsync(async () =>
        {
            var list = await owner.GetAsync($"/v1/sites/{client.Site}/companies?{range}&limit=25");
            return list.GetProperty("companies").GetArrayLength() == 2 && list.GetProperty("companies").EnumerateArray().Where(c => c.GetProperty("name").GetString() == Company.Name)
                .Select(c => (JsonElement?)c).FirstOrDefault() is { } found && found.GetProperty("pageViews").GetInt64() == 3 && found.GetProperty("visits").GetInt64() == 1 ? found : null;
        }, "the company report to show Initech with its one visit of three pages, and Hooli", TimeSpan.FromSeconds(180));

        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/companies");
        await Browser.AssertFirstPaintAsync(page, "Companies", output);
        var row = page.Locator("table.companies tbody tr").Filter(new() { HasTextString = Company.Name });
        await Assertions.Expect(row.Locator(".score")).ToHaveTextAsync(company.GetProperty("score").GetInt32().ToString(CultureInfo.InvariantCulture));
        await Assertions.Expect(row.Locator("td").Nth(1)).ToHaveTextAsync(company.GetProperty("visits").GetInt64().ToString("#,0", CultureInfo.InvariantCulture));
        await Assertions.Expect(row).ToContainTextAsync(Company.Domain);
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "companies");

        // Search narrows the list (case-insensitive, part of the name or the domain); a search that matches nothing says
        // so. Each search's answer differs from the one before it: enhanced navigation changes the address before the new
        // page arrives, so the next search is typed only once this one's result is on the page (else it would be typed
        // into the old form and reset by the new one).
        var rows = page.Locator("table.companies tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await SearchAsync(page, "INITE");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows).ToContainTextAsync(Company.Name);
        await SearchAsync(page, new string('a', 100));
        await Assertions.Expect(page.GetByText("No companies visited in this range with these filters")).ToBeVisibleAsync();
        await SearchAsync(page, Other.Domain.ToUpperInvariant());
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows).ToContainTextAsync(Other.Name);
        await SearchAsync(page, "zz-no-such-company-ü");
        await Assertions.Expect(page.GetByText("No companies visited in this range with these filters")).ToBeVisibleAsync();

        // The timeline: the visit with its pages in order.
        await page.GotoAsync(new Uri(system.Dashboard, $"/sites/{client.Site}/companies").ToString());
        await page.GetByRole(AriaRole.Link, new() { Name = Company.Name }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync(Company.Name);
        await Assertions.Expect(page.Locator(".timeline")).ToContainTextAsync("/ → /pricing → /contact");
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "company-timeline");

        // From the timeline to the Overview filtered to the company.
        await page.GetByRole(AriaRole.Link, new() { Name = "Traffic of this company" }).ClickAsync();
        await page.WaitForURLAsync("**company=**");
        await Assertions.Expect(page.GetByRole(AriaRole.List, new() { Name = "Filters" })).ToBeVisibleAsync();
    }

    private static async Task SearchAsync(IPage page, string text)
    {
        await page.GetByLabel("Search").FillAsync(text);
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).Last.ClickAsync();
    }
}
