using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>Signing in and out of the web app: the app's own form, its own cookie, the query API's session behind it.</summary>
public sealed class SignInTests(DashboardSystem system)
{
    [Fact]
    public async Task An_owner_signs_in_lands_on_their_site_and_signs_out_and_the_pages_then_ask_for_sign_in_again()
    {
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();

        // A page of the app, signed out: the sign-in form, which returns there afterwards.
        await page.GotoAsync(new Uri(system.Dashboard, $"/sites/{DashboardSystem.AcmeSite}/companies").ToString());
        Assert.Contains("/sign-in", page.Url, StringComparison.Ordinal);
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "sign-in");

        await page.GetByLabel("E-mail").FillAsync(DashboardSystem.OwnerEmail);
        await page.GetByLabel("Password").FillAsync("not the password at all");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("wrong");

        await page.GetByLabel("E-mail").FillAsync(DashboardSystem.OwnerEmail);
        await page.GetByLabel("Password").FillAsync(DashboardSystem.OwnerPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync($"**/sites/{DashboardSystem.AcmeSite}/companies**");

        // The browser holds the app's cookie only: the query API's session never reaches it.
        var cookies = await page.Context.CookiesAsync();
        Assert.Equal(["insights-dashboard"], cookies.Select(c => c.Name).Where(n => !n.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal)));
        Assert.True(cookies.Single(c => c.Name == "insights-dashboard").HttpOnly);

        // The owner's one site is in the switcher; the partner's other client is not.
        await page.GetByText("Site: Acme shop").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Acme shop" })).ToBeVisibleAsync();
        Assert.Equal(0, await page.GetByText("Globex").CountAsync());

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/sign-in?signedOut=1");
        await page.GotoAsync(new Uri(system.Dashboard, $"/sites/{DashboardSystem.AcmeSite}/overview").ToString());
        Assert.Contains("/sign-in", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_returnUrl_to_another_origin_is_ignored_after_sign_in()
    {
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, DashboardSystem.OwnerEmail, DashboardSystem.OwnerPassword, "/sign-in?returnUrl=//evil.example/x");
        Assert.StartsWith(system.Dashboard.ToString().TrimEnd('/'), page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_query_API_session_ends_the_next_page_asks_to_sign_in_again_and_returns_there()
    {
        // A client of this test's own: changing its owner's password ends their other sessions (the app's among them).
        var client = await system.NewClientAsync("password");
        var oldPassword = client.OwnerPassword;
        const string NewPassword = "a brand-new passphrase ✓";
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, oldPassword, $"/sites/{client.Site}/overview");
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Overview");

        using (var owner = await system.SignInToApiAsync(client.OwnerEmail, oldPassword))
        {
            await owner.CsrfAsync();
            await owner.JsonAsync(HttpMethod.Put, "/v1/me/password", new { currentPassword = oldPassword, newPassword = NewPassword }, System.Net.HttpStatusCode.NoContent);
        }

        await page.GotoAsync(new Uri(system.Dashboard, $"/sites/{client.Site}/companies").ToString());
        await page.WaitForURLAsync("**/sign-in?expired=1**");
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Your session ended");
        await page.GetByLabel("E-mail").FillAsync(client.OwnerEmail);
        await page.GetByLabel("Password").FillAsync(NewPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Browser.WaitForAsync(page, $"**/sites/{client.Site}/companies**");
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Companies");
    }
}
