using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>Live: a <c>suggest</c> rule puts a present visitor's suggestion on the open page, and the agent's Dismiss removes it.</summary>
public sealed class LiveSuggestionTests(DashboardSystem system)
{
    private const string Site = DashboardSystem.AcmeSite;

    [Fact]
    public async Task A_suggest_rule_shows_a_suggestion_for_a_present_visitor_and_dismiss_removes_it()
    {
        using var api = await system.SignInToApiAsync(DashboardSystem.OwnerEmail, DashboardSystem.OwnerPassword);
        await api.CsrfAsync();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var rule = "offer-" + suffix;
        var path = "/offer-" + suffix; // only this test's visitor matches, so other tests' visitors get no suggestion
        await api.JsonAsync(HttpMethod.Put, $"/v1/sites/{Site}/invitation-rules/{rule}", new
        {
            id = rule, name = "Offer " + suffix, enabled = true, action = "suggest", message = "Need help?",
            when = new { all = new object[] { new { kind = "current_url", pattern = path } } },
        });
        try
        {
            await using var browser = await Browser.LaunchAsync();
            var page = await browser.NewPageAsync();
            await Browser.SignInAsync(page, system.Dashboard, DashboardSystem.OwnerEmail, DashboardSystem.OwnerPassword, $"/sites/{Site}/live");
            await Assertions.Expect(page.Locator(".live-count .status-dot:not(.idle)")).ToBeVisibleAsync(new() { Timeout = 60_000 });

            var visitor = "sugg-" + suffix;
            await Events.PageViewsAsync(system.Ingest, system.ServerKeys[Site], visitor, "203.0.113.77", path);
            var suggestion = page.Locator($"[data-visitor='{visitor}'] .suggestion");
            await Assertions.Expect(suggestion).ToContainTextAsync("Offer " + suffix, new() { Timeout = 60_000 });
            await suggestion.GetByRole(AriaRole.Button, new() { Name = "Dismiss" }).ClickAsync();
            await Assertions.Expect(suggestion).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        }
        finally
        {
            using var cleanup = await api.SendAsync(HttpMethod.Delete, $"/v1/sites/{Site}/invitation-rules/{rule}");
        }
    }
}
