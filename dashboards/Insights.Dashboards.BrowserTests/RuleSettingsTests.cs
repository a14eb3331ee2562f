using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>
/// The Settings page's invitation and alert rules as an owner uses them: a rule added through the form is what the API
/// then returns, a hostile one is refused with the API's own message and nothing stored, and a removed one is gone.
/// Each test has a client of its own: its rules never reach another test's visitors.
/// </summary>
public sealed class RuleSettingsTests(DashboardSystem system)
{
    [Fact]
    public async Task An_owner_adds_an_invitation_rule_the_api_returns_a_hostile_one_is_refused_with_the_apis_message_and_a_removed_one_is_gone()
    {
        var client = await system.NewClientAsync("rules");
        using var api = await system.SignInToApiAsync(client.OwnerEmail, client.OwnerPassword);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var name = "Pricing ü " + suffix;
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/settings");
        var form = page.Locator("#rule-form");
        await form.GetByLabel("Rule name").FillAsync(name);
        await form.GetByLabel("Action").SelectOptionAsync("suggest");
        await form.GetByLabel("Message").FillAsync("Fragen zum Preis? 価格");
        await form.GetByLabel("Conditions must").SelectOptionAsync("all");
        await form.GetByLabel("Condition 1").SelectOptionAsync("current_url");
        await form.GetByLabel("Value 1").FillAsync("/pricing");
        await form.GetByLabel("Condition 2").SelectOptionAsync("time_on_page");
        await form.GetByLabel("Value 2").FillAsync("5");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save rule" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("saved");
        await Assertions.Expect(page.Locator("#rules tbody tr", new() { HasText = name })).ToContainTextAsync("suggest");

        var stored = (await api.GetAsync($"/v1/sites/{client.Site}/invitation-rules")).GetProperty("rules").EnumerateArray()
            .Single(r => r.GetProperty("name").GetString() == name);
        var id = stored.GetProperty("id").GetString()!; // the page derives the id from the name
        Assert.StartsWith("pricing-", id, StringComparison.Ordinal);
        Assert.Equal(name, stored.GetProperty("name").GetString());
        Assert.Equal("suggest", stored.GetProperty("action").GetString());
        Assert.Equal("Fragen zum Preis? 価格", stored.GetProperty("message").GetString());
        Assert.True(stored.GetProperty("enabled").GetBoolean());
        var all = stored.GetProperty("when").GetProperty("all").EnumerateArray().ToList();
        Assert.Equal("current_url", all[0].GetProperty("kind").GetString());
        Assert.Equal("/pricing", all[0].GetProperty("pattern").GetString());
        Assert.Equal("time_on_page", all[1].GetProperty("kind").GetString());
        Assert.Equal(5, all[1].GetProperty("min").GetDouble());
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "settings-invitation-rules");

        // Hostile: a 600-character message on an auto-invitation; the API's own message is shown, nothing stored.
        await form.GetByLabel("Rule name").FillAsync("Long " + suffix);
        await form.GetByLabel("Action").SelectOptionAsync("auto_invite");
        await form.GetByLabel("Message").FillAsync(new string('x', 600));
        await form.GetByRole(AriaRole.Button, new() { Name = "Save rule" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-error")).ToContainTextAsync("500 characters");
        var after = (await api.GetAsync($"/v1/sites/{client.Site}/invitation-rules")).GetProperty("rules").EnumerateArray();
        Assert.DoesNotContain(after, r => r.GetProperty("name").GetString() == "Long " + suffix);

        await page.GetByRole(AriaRole.Button, new() { Name = $"Remove rule {name}" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("removed");
        await Assertions.Expect(page.Locator("#rules tbody tr", new() { HasText = name })).ToHaveCountAsync(0);
        var left = (await api.GetAsync($"/v1/sites/{client.Site}/invitation-rules")).GetProperty("rules").EnumerateArray();
        Assert.DoesNotContain(left, r => r.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task An_alert_rule_with_a_local_webhook_is_stored_its_secret_shown_once_and_it_is_removed_on_the_page()
    {
        var client = await system.NewClientAsync("rules");
        using var api = await system.SignInToApiAsync(client.OwnerEmail, client.OwnerPassword);
        var name = "Hot leads " + Guid.NewGuid().ToString("N")[..6];
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/settings");
        var form = page.Locator("#alert-rule-form");
        await form.GetByLabel("Alert rule name").FillAsync(name);
        await form.GetByLabel("Fires when").SelectOptionAsync("lead_score");
        await form.GetByLabel("Lowest score").FillAsync("40");
        await form.GetByLabel("Send to").SelectOptionAsync("webhook");
        await form.GetByLabel("URL").FillAsync("http://127.0.0.1:9/insights-hook"); // the test system allows private receivers
        await form.GetByRole(AriaRole.Button, new() { Name = "Save alert rule" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("saved");
        var secret = (await page.Locator(".alert-secret").TextContentAsync())!.Trim();
        Assert.StartsWith("iws_", secret, StringComparison.Ordinal);
        await Browser.AssertAccessibleAsync(page);

        var stored = (await api.GetAsync($"/v1/sites/{client.Site}/alert-rules")).GetProperty("rules").EnumerateArray()
            .Single(r => r.GetProperty("name").GetString() == name);
        Assert.Equal("lead_score", stored.GetProperty("kind").GetString());
        Assert.Equal(40, stored.GetProperty("minScore").GetInt32());
        var destination = stored.GetProperty("destinations").EnumerateArray().Single();
        Assert.Equal("http://127.0.0.1:9/insights-hook", destination.GetProperty("url").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, destination.GetProperty("secret").ValueKind); // the API never shows it again

        await page.GotoAsync(new Uri(system.Dashboard, $"/sites/{client.Site}/settings").ToString());
        await Assertions.Expect(page.Locator("#alert-rule-list tbody tr", new() { HasText = name })).ToContainTextAsync("lead score reaches 40");
        await Assertions.Expect(page.Locator(".alert-secret")).ToHaveCountAsync(0); // shown once

        await page.GetByRole(AriaRole.Button, new() { Name = $"Remove alert rule {name}" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("removed");
        var left = (await api.GetAsync($"/v1/sites/{client.Site}/alert-rules")).GetProperty("rules").EnumerateArray();
        Assert.DoesNotContain(left, r => r.GetProperty("name").GetString() == name);
    }
}
