using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>
/// The Settings page as an owner uses it — keys issued, rotated and revoked with the API refusing the old ones, people
/// invited, goals, privacy and target accounts changed — and as an invited viewer sees it: no buttons that change anything.
/// Every test changes a client of its own, so nothing needs putting back and no other test sees the changes.
/// </summary>
public sealed partial class SettingsTests(DashboardSystem system)
{

    [Fact]
    public async Task A_key_issued_on_the_page_reads_reports_and_once_rotated_the_api_refuses_the_old_one_and_once_revoked_the_new_one()
    {
        var client = await system.NewClientAsync("keys");
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/settings");
        await Assertions.Expect(page.Locator("#snippet-tag")).ToContainTextAsync($"src=\"{system.Ingest.ToString().TrimEnd('/')}/t.js\"");
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "settings");

        var label = "Report key ü " + Guid.NewGuid().ToString("N")[..6];
        await page.GetByLabel("Kind").SelectOptionAsync("read");
        await page.GetByLabel("Label").FillAsync(label);
        await page.GetByRole(AriaRole.Button, new() { Name = "Issue a key" }).ClickAsync();
        var first = (await page.Locator("#new-key").TextContentAsync())!.Trim();
        Assert.Equal(HttpStatusCode.OK, await ReadStatusAsync(client.Site, HttpStatusCode.OK, first));

        var row = page.Locator("#keys tbody tr", new() { HasText = label }).Filter(new() { Has = page.GetByRole(AriaRole.Button, new() { Name = "Rotate" }) });
        await row.GetByRole(AriaRole.Button, new() { Name = "Rotate" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("Key rotated");
        var second = (await page.Locator("#new-key").TextContentAsync())!.Trim();
        Assert.NotEqual(first, second);
        Assert.Equal(HttpStatusCode.Unauthorized, await ReadStatusAsync(client.Site, HttpStatusCode.Unauthorized, first));
        Assert.Equal(HttpStatusCode.OK, await ReadStatusAsync(client.Site, HttpStatusCode.OK, second));

        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("Key revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, await ReadStatusAsync(client.Site, HttpStatusCode.Unauthorized, second));
        await Assertions.Expect(page.Locator("#keys tbody tr", new() { HasText = label }).GetByRole(AriaRole.Button)).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#new-key")).ToHaveCountAsync(0); // a key is shown once, never again
    }

    [Fact]
    public async Task Another_sites_key_id_posted_to_the_form_is_refused_and_that_key_keeps_working()
    {
        var client = await system.NewClientAsync("foreign-key");
        using var partner = await system.SignInToApiAsync(DashboardSystem.PartnerEmail, DashboardSystem.PartnerPassword);
        var globexRead = (await partner.GetAsync($"/v1/sites/{DashboardSystem.GlobexSite}/keys")).EnumerateArray()
            .First(k => k.GetProperty("kind").GetString() == "read" && k.GetProperty("revokedAt").ValueKind == JsonValueKind.Null);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/settings");

        // The form of one of Acme's own keys, its hidden id swapped for Globex's key.
        var form = page.Locator("#keys form").First;
        await form.Locator("input[name='Form.KeyId']").EvaluateAsync("(input, id) => input.value = id", globexRead.GetProperty("id").GetString());
        await form.GetByRole(AriaRole.Button, new() { Name = "Rotate" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-error")).ToContainTextAsync("key_not_found");

        var after = (await partner.GetAsync($"/v1/sites/{DashboardSystem.GlobexSite}/keys")).EnumerateArray().Single(k => k.GetProperty("id").GetString() == globexRead.GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, after.GetProperty("revokedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, after.GetProperty("expiresAt").ValueKind);
    }

    [Fact]
    public async Task Goals_privacy_and_target_accounts_change_through_the_page_and_a_refused_value_shows_the_apis_reason()
    {
        var client = await system.NewClientAsync("settings");
        using var api = await system.SignInToApiAsync(client.OwnerEmail, client.OwnerPassword);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/settings");

        // The site itself: a time zone that does not exist is refused with the API's words; a new name is kept as typed.
        await page.GetByLabel("Time zone (IANA)").FillAsync("Mars/Olympus_Mons");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save site" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-error")).ToContainTextAsync("Not accepted");
        Assert.Equal("UTC", (await api.GetAsync($"/v1/sites/{client.Site}/settings")).GetProperty("timeZone").GetString());
        await page.GetByLabel("Site name").FillAsync("Laden für Grüße – ✓");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save site" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("Site saved");
        Assert.Equal("Laden für Grüße – ✓", (await api.GetAsync($"/v1/sites/{client.Site}/settings")).GetProperty("name").GetString());

        // A goal with a non-ASCII name: stored as typed, under an id made from it.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Anfrage gesendet – Grüße");
        await page.GetByLabel("Completed by").SelectOptionAsync("page");
        await page.GetByLabel("Page (for pages)").FillAsync("/danke");
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync("12.50");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add goal" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("added");
        var goal = (await api.GetAsync($"/v1/sites/{client.Site}/settings")).GetProperty("goals").EnumerateArray().Single(g => g.GetProperty("name").GetString() == "Anfrage gesendet – Grüße");
        Assert.Equal("/danke", goal.GetProperty("urlPattern").GetString());
        Assert.Equal(12.50m, goal.GetProperty("value").GetDecimal());
        await Assertions.Expect(page.Locator("#goal-settings")).ToContainTextAsync("visiting /danke");

        // A page goal without a page: the API refuses it and the page says why.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("No page");
        await page.GetByLabel("Completed by").SelectOptionAsync("page");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add goal" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-error")).ToContainTextAsync("Not accepted");
        Assert.DoesNotContain((await api.GetAsync($"/v1/sites/{client.Site}/settings")).GetProperty("goals").EnumerateArray(), g => g.GetProperty("name").GetString() == "No page");

        // Removing the goal: gone from the settings (its past completions stay under its id).
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove goal Anfrage gesendet – Grüße" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("Goal removed");
        Assert.DoesNotContain((await api.GetAsync($"/v1/sites/{client.Site}/settings")).GetProperty("goals").EnumerateArray(), g => g.GetProperty("name").GetString() == "Anfrage gesendet – Grüße");
        await Assertions.Expect(page.Locator("#goal-settings")).Not.ToContainTextAsync("Grüße");

        // Privacy mode: keep nothing of the IP.
        await page.GetByLabel("Nothing: no IP is kept").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save privacy" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("Privacy settings saved");
        var ip = (await api.GetAsync($"/v1/sites/{client.Site}/settings")).GetProperty("ipStorage");
        Assert.True(ip.ValueKind == JsonValueKind.Number ? ip.GetInt32() == 2 : ip.GetString() == "None", ip.ToString());
        await Assertions.Expect(page.GetByLabel("Nothing: no IP is kept")).ToBeCheckedAsync();

        // Target accounts: a URL is not a domain (the API's reason is shown, nothing saved); domains are.
        await page.GetByLabel("The companies your sales team is after").FillAsync("initech.example\nhttps://evil.example/path");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save target accounts" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-error")).ToContainTextAsync("not a web domain");
        Assert.Equal(0, (await api.GetAsync($"/v1/sites/{client.Site}/settings")).GetProperty("targetAccounts").GetArrayLength());
        await page.GetByLabel("The companies your sales team is after").FillAsync("initech.example\nGlobex.example");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save target accounts" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("Target accounts saved (2)");
        var targets = (await api.GetAsync($"/v1/sites/{client.Site}/settings")).GetProperty("targetAccounts").EnumerateArray().Select(t => t.GetString()!.ToLowerInvariant()).ToList();
        Assert.Equal(["initech.example", "globex.example"], targets);
        await Browser.AssertAccessibleAsync(page);
    }

    [Fact]
    public async Task An_owner_invites_a_viewer_who_accepts_and_then_sees_no_button_that_changes_anything()
    {
        var client = await system.NewClientAsync("people");
        var email = $"viewer-{Guid.NewGuid():N}"[..15] + "@acme.example";
        using var owner = await system.SignInToApiAsync(client.OwnerEmail, client.OwnerPassword);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/settings");

        await page.GetByLabel("E-mail").FillAsync(email);
        await page.GetByLabel("Role").SelectOptionAsync("viewer");
        await page.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        var link = (await page.Locator("#invitation-link").TextContentAsync())!.Trim();
        await Assertions.Expect(page.Locator("#people tr.pending", new() { HasText = email })).ToBeVisibleAsync();
        var organisation = (await owner.GetAsync("/v1/me")).GetProperty("sites").EnumerateArray().Single(s => s.GetProperty("id").GetString() == client.Site).GetProperty("organisationId").GetString();
        var people = await owner.GetAsync($"/v1/organisations/{organisation}/people");
        Assert.Contains(people.GetProperty("invitations").EnumerateArray(), i => i.GetProperty("email").GetString() == email && i.GetProperty("role").GetString() == "viewer");

        // A malformed address: the API's refusal with its reason, no new invitation.
        await page.GetByLabel("E-mail").EvaluateAsync("input => input.type = 'text'");
        await page.GetByLabel("E-mail").FillAsync("not-an-address");
        await page.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-error")).ToContainTextAsync("Not accepted");

        // A second invitation, revoked from the list: its row goes and the API no longer has it.
        var second = $"revoked-{Guid.NewGuid():N}"[..16] + "@acme.example";
        await page.GetByLabel("E-mail").EvaluateAsync("input => input.type = 'email'");
        await page.GetByLabel("E-mail").FillAsync(second);
        await page.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = $"Revoke the invitation of {second}" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("Invitation revoked");
        await Assertions.Expect(page.Locator("#people tr.pending", new() { HasText = second })).ToHaveCountAsync(0);
        Assert.DoesNotContain((await owner.GetAsync($"/v1/organisations/{organisation}/people")).GetProperty("invitations").EnumerateArray(),
            i => i.GetProperty("email").GetString() == second);

        using var viewer = new ApiPerson(system.Query);
        await viewer.JsonAsync(HttpMethod.Post, $"/v1/invitations/{Token().Match(link).Value}/accept", new { password = "a viewer's long passphrase", displayName = "Vera Viewer" });
        var viewerPage = await browser.NewPageAsync();
        await Browser.SignInAsync(viewerPage, system.Dashboard, email, "a viewer's long passphrase", $"/sites/{client.Site}/settings");
        await Assertions.Expect(viewerPage.Locator("#read-only")).ToContainTextAsync("viewer");
        Assert.Equal(0, await viewerPage.Locator("main form").CountAsync());
        Assert.Equal(0, await viewerPage.Locator("main button").CountAsync());
        await Browser.AssertAccessibleAsync(viewerPage);
        await Browser.ScreenshotAsync(viewerPage, "settings-viewer");

        // The API decides anyway: the viewer's own session cannot issue a key.
        using var direct = await system.SignInToApiAsync(email, "a viewer's long passphrase");
        await direct.CsrfAsync();
        await direct.JsonAsync(HttpMethod.Post, $"/v1/sites/{client.Site}/keys", new { kind = "read", label = "sneaky" }, HttpStatusCode.Forbidden);

        // The owner removes the viewer's role from the list: the viewer's session no longer sees the site at all.
        await page.GotoAsync(new Uri(system.Dashboard, $"/sites/{client.Site}/settings").ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = $"Remove {email}'s viewer role" }).ClickAsync();
        await Assertions.Expect(page.Locator("#settings-status")).ToContainTextAsync("Role removed");
        await Assertions.Expect(page.Locator("#people", new() { HasText = email })).ToHaveCountAsync(0);
        await direct.JsonAsync(HttpMethod.Get, $"/v1/sites/{client.Site}/stats", expected: HttpStatusCode.NotFound);
    }

    /// <summary>What the query API answers a report read with <paramref name="key"/>, once it stops changing (services reload keys every second).</summary>
    private async Task<HttpStatusCode> ReadStatusAsync(string site, HttpStatusCode expected, string key)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        HttpStatusCode status;
        while ((status = await ReadStatusAsync(site, key)) != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        return status;
    }

    private async Task<HttpStatusCode> ReadStatusAsync(string site, string key)
    {
        using var anonymous = new HttpClient { BaseAddress = system.Query, Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/sites/{site}/stats");
        request.Headers.Add("X-Insights-Key", key);
        using var response = await anonymous.SendAsync(request, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    [GeneratedRegex("iin_[A-Za-z0-9_-]+")]
    private static partial Regex Token();
}
