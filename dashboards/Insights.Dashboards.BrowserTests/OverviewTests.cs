using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>The Overview: the numbers the stats API returns for the same range, range switching, filters, phones.</summary>
public sealed class OverviewTests(DashboardSystem system, ITestOutputHelper output)
{
    private static readonly string[] Paths = ["/", "/pricing", "/blog/überraschung", "/contact"];

    [Fact]
    public async Task An_owner_sees_the_stats_APIs_numbers_in_every_panel_switches_range_and_filters_by_a_page()
    {
        // A client of its own: three visitors, nine page views, three visits, today; nobody else's traffic.
        var client = await system.NewClientAsync("overview");
        await Events.PageViewsAsync(system.Ingest, client.ServerKey, "ov-visitor-1", "192.0.2.10", Paths);
        await Events.PageViewsAsync(system.Ingest, client.ServerKey, "ov-visitor-2", "192.0.2.11", "/", "/pricing", "/checkout");
        await Events.PageViewsAsync(system.Ingest, client.ServerKey, "ov-visitor-3", "192.0.2.12", "/pricing", "/");
        using var owner = await system.SignInToApiAsync(client.OwnerEmail, client.OwnerPassword);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        string Stats(int days, string more = "") =>
            $"/v1/sites/{client.Site}/stats?from={today.AddDays(1 - days):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}&interval=day&limit=10{more}";

        // Events and visits reach ClickHouse on their own schedules: compare once both have settled, or the API's answer
        // and the page's (a moment apart) could differ with nobody at fault.
        var week = await SettledAsync(owner, Stats(7));

        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword);
        Assert.EndsWith($"/sites/{client.Site}/overview", page.Url, StringComparison.Ordinal); // the owner's one site

        await page.GotoAsync(new Uri(system.Dashboard, $"/sites/{client.Site}/overview?range=7d").ToString());
        await Browser.AssertFirstPaintAsync(page, "Overview", output);
        await AssertPanelsAsync(page, week);
        await Assertions.Expect(page.Locator("#top-pages")).ToContainTextAsync("/blog/überraschung");
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "overview");

        // The chart's numbers are there for people who cannot see it: the day's page views, as the series says.
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Chart metric" }).GetByRole(AriaRole.Link, new() { Name = "Page views" }).ClickAsync();
        await page.WaitForURLAsync("**metric=pageviews**");
        var todayViews = week.GetProperty("series").EnumerateArray().Last().GetProperty("views").GetInt64();
        await page.Locator("#series summary").ClickAsync();
        await Assertions.Expect(page.Locator("#series table tbody tr").Last).ToContainTextAsync(Count(todayViews));

        // Another range: the API's numbers for that range.
        await page.GetByText("Last 7 days").First.ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Last 30 days" }).ClickAsync();
        await page.WaitForURLAsync("**range=30d**");
        await Assertions.Expect(page.Locator(".range-picker summary")).ToHaveTextAsync("Last 30 days"); // the new page, not the old one under a new address
        await AssertPanelsAsync(page, await owner.GetAsync(Stats(30)));

        // Comparison on, then a filter from a panel's row: the chip shows, every figure is the API's for that filter.
        await page.GetByRole(AriaRole.Switch, new() { Name = "Compare with previous period" }).ClickAsync();
        await page.WaitForURLAsync("**compare=previous**");
        await Assertions.Expect(page.GetByRole(AriaRole.Switch, new() { Name = "Compare with previous period" })).ToHaveAttributeAsync("aria-checked", "true");
        await AssertPanelsAsync(page, await owner.GetAsync(Stats(30, "&compare=previous")));
        await page.Locator("#top-pages").GetByRole(AriaRole.Link, new() { Name = "/pricing", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**page=%2Fpricing**");
        await Assertions.Expect(page.GetByRole(AriaRole.List, new() { Name = "Filters" })).ToContainTextAsync("/pricing");
        var filtered = await owner.GetAsync(Stats(30, "&compare=previous&page=%2Fpricing"));
        Assert.Equal(3, Totals(filtered).GetProperty("visitors").GetInt64()); // all three saw /pricing
        await AssertPanelsAsync(page, filtered);
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "overview-filtered");
    }

    [Fact]
    public async Task The_overview_reads_on_a_phone_without_sideways_scrolling()
    {
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(phone: true);
        await Browser.SignInAsync(page, system.Dashboard, DashboardSystem.OwnerEmail, DashboardSystem.OwnerPassword, $"/sites/{DashboardSystem.AcmeSite}/overview");
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Overview");
        await Assertions.Expect(page.Locator(".stat").First).ToBeVisibleAsync();
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

    private static async Task<JsonElement> SettledAsync(ApiPerson owner, string path) =>
        await Eventually.ElementAsync(async () =>
        {
            var stats = await owner.GetAsync(path);
            var totals = Totals(stats);
            return totals.GetProperty("pageViews").GetInt64() == 9 && totals.GetProperty("visitors").GetInt64() == 3
                && (!totals.TryGetProperty("visits", out var visits) || visits.GetInt64() == 3)
                && stats.GetProperty("topPages").GetArrayLength() == 5 ? stats : null;
        }, "the stats to count 9 page views and 3 visits of 3 visitors", TimeSpan.FromSeconds(180));

    private static JsonElement Totals(JsonElement stats) => stats.TryGetProperty("totals", out var t) ? t : stats;

    /// <summary>Every figure the page shows equals the API's for the same request: headline, changes, top pages and breakdowns.</summary>
    private static async Task AssertPanelsAsync(IPage page, JsonElement stats)
    {
        var totals = Totals(stats);
        var change = stats.TryGetProperty("comparison", out var comparison) && comparison.ValueKind == JsonValueKind.Object
            && comparison.TryGetProperty("change", out var c) && c.ValueKind == JsonValueKind.Object ? c : (JsonElement?)null;
        await AssertStatAsync(page, "Visitors", totals, "visitors", v => Count(v.GetInt64()), change);
        await AssertStatAsync(page, "Page views", totals, "pageViews", v => Count(v.GetInt64()), change);
        await AssertStatAsync(page, "Visits", totals, "visits", v => Count(v.GetInt64()), change);
        await AssertStatAsync(page, "Views per visit", totals, "viewsPerVisit", v => v.GetDouble().ToString("0.##", CultureInfo.InvariantCulture), change);
        await AssertStatAsync(page, "Bounce rate", totals, "bounceRate", v => Percent(v.GetDouble()), change, points: true);
        await AssertStatAsync(page, "Visit duration", totals, "visitDurationSeconds", v => Duration(v.GetDouble()), change);

        // Top pages: every row in the API's order, path as people read it, views and visitors.
        var pages = stats.GetProperty("topPages").EnumerateArray().ToList();
        await Assertions.Expect(page.Locator("#top-pages tbody th")).ToHaveTextAsync([.. pages.Select(p => Uri.UnescapeDataString(p.GetProperty("path").GetString()!))]);
        await Assertions.Expect(page.Locator("#top-pages tbody td:nth-child(2)")).ToHaveTextAsync([.. pages.Select(p => Count(p.GetProperty("views").GetInt64()))]);
        await Assertions.Expect(page.Locator("#top-pages tbody td:nth-child(3)")).ToHaveTextAsync([.. pages.Select(p => Count(p.GetProperty("visitors").GetInt64()))]);

        // The breakdown panels shown first: value, visitors, bounce rate per row.
        foreach (var (panel, field) in new[] { ("channels", "channels"), ("countries", "countries"), ("devices", "devices") })
        {
            if (!stats.TryGetProperty(field, out var rows) || rows.GetArrayLength() == 0)
            {
                continue;
            }

            var list = rows.EnumerateArray().ToList();
            await Assertions.Expect(page.Locator($"#{panel} tbody th")).ToHaveTextAsync([.. list.Select(r => r.GetProperty("value").GetString()!)]);
            await Assertions.Expect(page.Locator($"#{panel} tbody td:nth-child(2)")).ToHaveTextAsync([.. list.Select(r => Count(r.GetProperty("visitors").GetInt64()))]);
            await Assertions.Expect(page.Locator($"#{panel} tbody td:nth-child(3)")).ToHaveTextAsync([.. list.Select(r => Percent(r.GetProperty("bounceRate")))]);
        }
    }

    private static async Task AssertStatAsync(IPage page, string label, JsonElement totals, string field, Func<JsonElement, string> format, JsonElement? change, bool points = false)
    {
        if (!totals.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            await Assertions.Expect(Stat(page, label)).ToHaveCountAsync(label is "Visitors" or "Page views" ? 1 : 0);
            return;
        }

        var stat = Stat(page, label);
        await Assertions.Expect(stat.Locator(".value")).ToHaveTextAsync(format(value));
        if (change is { } changes)
        {
            var relative = changes.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : (double?)null;
            await Assertions.Expect(stat.Locator(".change")).ToContainTextAsync(Change(relative, points));
        }
        else
        {
            await Assertions.Expect(stat.Locator(".change")).ToHaveCountAsync(0);
        }
    }

    private static ILocator Stat(IPage page, string label) =>
        page.Locator(".stat").Filter(new() { Has = page.Locator("dt", new() { HasTextRegex = new System.Text.RegularExpressions.Regex($"^{label}$") }) });

    // The figures as a person reads them (small numbers here: exact counts).
    private static string Count(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    private static string Percent(double share) => (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    private static string Percent(JsonElement share) => share.ValueKind == JsonValueKind.Number ? Percent(share.GetDouble()) : "–";

    private static string Duration(double seconds) => seconds < 60
        ? Math.Round(seconds).ToString(CultureInfo.InvariantCulture) + " s"
        : $"{(int)(seconds / 60)} min {(int)(seconds % 60)} s";

    private static string Change(double? change, bool points) => change switch
    {
        null => "new",
        var c when points => (c.Value >= 0 ? "+" : "−") + Math.Abs(c.Value * 100).ToString("0.#", CultureInfo.InvariantCulture) + " pts",
        var c => (c.Value >= 0 ? "+" : "−") + Math.Abs(c.Value * 100).ToString("0", CultureInfo.InvariantCulture) + " %",
    };
}
