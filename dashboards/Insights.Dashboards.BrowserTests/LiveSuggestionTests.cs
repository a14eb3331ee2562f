using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>Live: a <c>suggest</c> rule puts a present visitor's suggestion on the open page, and the agent's Dismiss removes it.</summary>
public sealed class LiveSuggestionTests(DashboardSystem system)
{
    [Fact]
    public async Task A_suggest_rule_shows_a_suggestion_for_a_present_visitor_and_dismiss_removes_it()
    {
        var client = await system.NewClientAsync("suggest");
        using var api = await system.SignInToApiAsync(client.OwnerEmail, client.OwnerPassword);
        await api.CsrfAsync();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var rule = "offer-" + suffix;
        var path = "/offer-" + suffix;
        await api.JsonAsync(HttpMethod.Put, $"/v1/sites/{client.Site}/invitation-rules/{rule}", new
        {
            id = rule, name = "Offer " + suffix, enabled = true, action = "suggest", message = "Need help?",
            when = new { all = new object[] { new { kind = "current_url", pattern = path } } },
        });

        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/live");
        await Assertions.Expect(page.Locator(".live-count .status-dot:not(.idle)")).ToBeVisibleAsync(new() { Timeout = 90_000 });

        // A visitor elsewhere on the site gets no suggestion; the one on the rule's page does.
        var elsewhere = "else-" + suffix;
        await Events.PageViewsAsync(system.Ingest, client.ServerKey, elsewhere, "203.0.113.78", "/");
        var visitor = "sugg-" + suffix;
        await Events.PageViewsAsync(system.Ingest, client.ServerKey, visitor, "203.0.113.77", path);
        var suggestion = page.Locator($"[data-visitor='{visitor}'] .suggestion");
        await Assertions.Expect(suggestion).ToContainTextAsync("Offer " + suffix, new() { Timeout = 90_000 });
        await Assertions.Expect(page.Locator($"[data-visitor='{elsewhere}']")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator($"[data-visitor='{elsewhere}'] .suggestion")).ToHaveCountAsync(0);
        await suggestion.GetByRole(AriaRole.Button, new() { Name = "Dismiss" }).ClickAsync();
        await Assertions.Expect(suggestion).ToHaveCountAsync(0, new() { Timeout = 60_000 });
    }
}
