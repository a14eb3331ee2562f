using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>The Overview: the numbers the stats API returns for the same range, range switching, filters, phones.</summary>
public sealed class OverviewTests(DashboardSystem system, ITestOutputHelper output)
{
    private static readonly string[] Paths = ["/", "/pricing", "/blog/überraschung", "/contact"];

    [Fact]
    public async Task An_owner_sees_the_stats_APIs_numbers_switches_range_and_filters_by_a_page()
    {
        // Traffic: three visitors, nine page views, today.
        await Events.PageViewsAsync(system.Ingest, system.ServerKeys[DashboardSystem.InitrodeSite], "ov-visitor-1", "192.0.2.10", Paths);
        await Events.PageViewsAsync(system.Ingest, system.ServerKeys[DashboardSystem.InitrodeSite], "ov-visitor-2", "192.0.2.11", "/", "/pricing", "/checkout");
        await Events.PageViewsAsync(system.Ingest, system.ServerKeys[DashboardSystem.InitrodeSite], "ov-visitor-3", "192.0.2.12", "/pricing", "/");
        using var owner = await system.SignInToApiAsync(DashboardSystem.InitrodeOwnerEmail, DashboardSystem.OwnerPassword);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        string Range(int days) => $"from={today.AddDays(1 - days):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}";
        var stats = await Eventually.ElementAsync(async () =>
        {
            var s = await owner.GetAsync($"/v1/sites/{DashboardSystem.InitrodeSite}/stats?{Range(7)}&interval=day&limit=10");
            return s.GetProperty("pageViews").GetInt64() >= 9 ? (JsonElement?)s : null;
        }, "the owner's stats to count the page views");

        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, DashboardSystem.InitrodeOwnerEmail, DashboardSystem.OwnerPassword);
        Assert.EndsWith($"/sites/{DashboardSystem.InitrodeSite}/overview", page.Url, StringComparison.Ordinal); // the owner's one site

        await page.GotoAsync(new Uri(system.Dashboard, $"/sites/{DashboardSystem.InitrodeSite}/overview?range=7d").ToString());
        await Browser.AssertFirstPaintAsync(page, "Overview", output);
        await AssertTotalsAsync(page, stats);
        await Assertions.Expect(page.Locator("#top-pages")).ToContainTextAsync("/blog/überraschung");
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "overview");

        // The chart's numbers are there for people who cannot see it: the day's page views, as the series says.
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Chart metric" }).GetByRole(AriaRole.Link, new() { Name = "Page views" }).ClickAsync();
        await page.WaitForURLAsync("**metric=pageviews**");
        var todayViews = stats.GetProperty("series").EnumerateArray().Last().GetProperty("views").GetInt64();
        await page.Locator("#series summary").ClickAsync();
        await Assertions.Expect(page.Locator("#series table tbody tr").Last).ToContainTextAsync(todayViews.ToString("#,0", CultureInfo.InvariantCulture));

        // Another range: the API's numbers for that range.
        await page.GetByText("Last 7 days").First.ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Last 30 days" }).ClickAsync();
        await page.WaitForURLAsync("**range=30d**");
        await Assertions.Expect(page.Locator(".range-picker summary")).ToHaveTextAsync("Last 30 days"); // the new page, not the old one under a new address
        await AssertTotalsAsync(page, await owner.GetAsync($"/v1/sites/{DashboardSystem.InitrodeSite}/stats?{Range(30)}&interval=day&limit=10"));

        // Comparison on, then a filter from a panel's row: the chip shows, every figure is the API's for that filter.
        await page.GetByRole(AriaRole.Switch, new() { Name = "Compare with previous period" }).ClickAsync();
        await page.WaitForURLAsync("**compare=previous**");
        await Assertions.Expect(page.GetByRole(AriaRole.Switch, new() { Name = "Compare with previous period" })).ToHaveAttributeAsync("aria-checked", "true");
        await page.Locator("#top-pages").GetByRole(AriaRole.Link, new() { Name = "/pricing", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**page=%2Fpricing**");
        await Assertions.Expect(page.GetByRole(AriaRole.List, new() { Name = "Filters" })).ToContainTextAsync("/pricing");
        await AssertTotalsAsync(page, await owner.GetAsync($"/v1/sites/{DashboardSystem.InitrodeSite}/stats?{Range(30)}&interval=day&limit=10&compare=previous&page=%2Fpricing"));
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "overview-filtered");
    }

    [Fact]
    public async Task The_overview_reads_on_a_phone_without_sideways_scrolling()
    {
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(phone: true);
        await Browser.SignInAsync(page, system.Dashboard, DashboardSystem.InitrodeOwnerEmail, DashboardSystem.OwnerPassword, $"/sites/{DashboardSystem.InitrodeSite}/overview");
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Overview");
        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
        Assert.True(overflow <= 0, $"the page is {overflow} px wider than a phone's screen");
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "overview-phone");
    }

    [Fact]
    public async Task An_owner_cannot_open_another_clients_site_and_hostile_site_ids_are_refused_plainly()
    {
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, DashboardSystem.OwnerEmail, DashboardSystem.OwnerPassword);
        foreach (var site in new[] { DashboardSystem.GlobexSite, "nö-such-site-✓", new string('x', 3000), "..%2F..%2Fv1%2Fme" })
        {
            await page.GotoAsync(new Uri(system.Dashboard, $"/sites/{Uri.EscapeDataString(site)}/overview").ToString());
            var text = await page.Locator("main").InnerTextAsync();
            Assert.True(text.Contains("Not found", StringComparison.OrdinalIgnoreCase) || text.Contains("not yours", StringComparison.Ordinal)
                || text.Contains("not understood", StringComparison.Ordinal), $"{site[..Math.Min(40, site.Length)]}: {text}");
            Assert.DoesNotContain("Globex", text, StringComparison.Ordinal);
        }
    }

    // The headline figures on the page are the API's for the same request.
    private static async Task AssertTotalsAsync(IPage page, JsonElement stats)
    {
        var totals = stats.TryGetProperty("totals", out var t) ? t : stats;
        await Assertions.Expect(Stat(page, "Visitors")).ToHaveTextAsync(Count(totals.GetProperty("visitors").GetInt64()));
        await Assertions.Expect(Stat(page, "Page views")).ToHaveTextAsync(Count(totals.GetProperty("pageViews").GetInt64()));
        if (totals.TryGetProperty("visits", out var visits))
        {
            await Assertions.Expect(Stat(page, "Visits")).ToHaveTextAsync(Count(visits.GetInt64()));
        }
    }

    private static ILocator Stat(IPage page, string label) =>
        page.Locator(".stat").Filter(new() { Has = page.Locator("dt", new() { HasTextString = label }) }).Locator(".value");

    private static string Count(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);
}
