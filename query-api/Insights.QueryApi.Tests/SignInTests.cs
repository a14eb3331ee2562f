using System.Net;
using System.Net.Http.Json;
using Insights.ControlPlane.Model;
using Insights.QueryApi.Tests.Support;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Tests;

/// <summary>Passwords, lockout, e-mail links, the session cookie and its CSRF header, personal tokens, a change of e-mail.</summary>
public sealed class SignInTests(AccountsHost host) : IClassFixture<AccountsHost>
{
    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_and_then_even_the_right_one_is_refused()
    {
        await host.PersonAsync("lock@people.example");
        using var browser = host.NewBrowser();
        for (var i = 0; i < 4; i++)
        {
            using var wrong = await browser.SignInAsync("lock@people.example", "not the password");
            Assert.Equal("invalid_credentials", (await wrong.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
        }

        using (var fifth = await browser.SignInAsync("lock@people.example", "not the password"))
        {
            Assert.Equal("locked_out", (await fifth.ProblemAsync(HttpStatusCode.TooManyRequests)).Reason());
            Assert.True(fifth.Headers.RetryAfter?.Delta > TimeSpan.FromMinutes(14));
        }

        using var right = await browser.SignInAsync("lock@people.example");
        Assert.Equal("locked_out", (await right.ProblemAsync(HttpStatusCode.TooManyRequests)).Reason());
        using var me = await browser.SendAsync(HttpMethod.Get, "/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    [Fact]
    public async Task One_address_trying_many_accounts_is_slowed_down_whichever_way_in_it_uses()
    {
        var settings = host.Database.Settings();
        settings["People:SignInAttemptsPerMinute"] = "3";
        await using var api = new QueryApiFactory(settings);
        using var client = api.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost") });

        // Three different accounts (no lockout is reached), then a link request and an invitation: the same budget.
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await client.PostAsJsonAsync("/v1/auth/sign-in", new { email = $"spray{i}@people.example", password = "Winter2026!" }, Http.Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        foreach (var (path, body) in new (string, object)[]
        {
            ("/v1/auth/sign-in", new { email = "spray3@people.example", password = "Winter2026!" }),
            ("/v1/auth/links", new { email = "spray4@people.example" }),
            ("/v1/invitations/iin_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/accept", new { password = "whatever it is 123" }),
        })
        {
            using var limited = await client.PostAsJsonAsync(path, body, Http.Ct);
            Assert.Equal("too_many_attempts", (await limited.ProblemAsync(HttpStatusCode.TooManyRequests)).Reason());
            Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"{path}: no Retry-After");
        }

        // Signed-in work is not counted: reports and management are limited by role, not by this budget.
        using var health = await client.GetAsync("/healthz", Http.Ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task A_password_stored_under_the_old_hash_format_still_signs_in_and_is_rehashed()
    {
        var id = await host.PersonAsync("legacy@people.example", withPassword: false);
        var legacy = new PasswordHasher<Person>(Options.Create(new PasswordHasherOptions { CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV2 }));
        await using (var db = await host.Store.CreateDbContextAsync(Http.Ct))
        {
            var person = await db.People.SingleAsync(p => p.Id == id, Http.Ct);
            person.PasswordHash = legacy.HashPassword(person, AccountsHost.Password);
            await db.SaveChangesAsync(Http.Ct);
        }

        using var browser = host.NewBrowser();
        using var response = await browser.SignInAsync("legacy@people.example");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await using var check = await host.Store.CreateDbContextAsync(Http.Ct);
        var stored = Convert.FromBase64String((await check.People.SingleAsync(p => p.Id == id, Http.Ct)).PasswordHash!);
        Assert.Equal(0x01, stored[0]); // Identity's V3 format (PBKDF2-SHA512, more iterations), not V2's 0x00
    }

    [Fact]
    public async Task An_unknown_address_and_a_wrong_password_get_the_same_answer_and_addresses_compare_case_insensitively()
    {
        await host.PersonAsync("Ärzte@Praxis.example");
        using var browser = host.NewBrowser();
        using var unknown = await browser.SignInAsync("nobody@praxis.example", "whatever it is");
        using var wrong = await browser.SignInAsync("ärzte@praxis.example", "whatever it is");
        var first = await unknown.ProblemAsync(HttpStatusCode.Unauthorized);
        var second = await wrong.ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(first.GetProperty("detail").GetString(), second.GetProperty("detail").GetString());

        using var right = await browser.SignInAsync("  ärzte@PRAXIS.example ");
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task An_emailed_link_signs_in_once_and_only_the_person_at_that_address_gets_one()
    {
        await host.PersonAsync("links@people.example", withPassword: false);
        using var browser = host.NewBrowser();
        using (var asked = await browser.SendAsync(HttpMethod.Post, "/v1/auth/links", new { email = "LINKS@people.example" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, asked.StatusCode);
        }

        using (var stranger = await browser.SendAsync(HttpMethod.Post, "/v1/auth/links", new { email = "nobody@people.example" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, stranger.StatusCode); // the same answer; no mail
        }

        Assert.Empty(await host.OutboxAsync("nobody@people.example"));
        var token = await host.LinkInMailAsync("links@people.example", "/v1/auth/links/");

        // Opening the link (a mail scanner does) only shows a button; it does not use the link up.
        using (var page = await browser.SendAsync(HttpMethod.Get, $"/v1/auth/links/{token}"))
        {
            Assert.Contains("<form method=post", await page.Content.ReadAsStringAsync(Http.Ct), StringComparison.Ordinal);
            Assert.True(page.Headers.CacheControl?.NoStore);
        }

        using (var hostile = await browser.SendAsync(HttpMethod.Get, "/v1/auth/links/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E"))
        {
            Assert.DoesNotContain("<script>", await hostile.Content.ReadAsStringAsync(Http.Ct), StringComparison.Ordinal);
        }

        var person = await browser.JsonAsync(HttpMethod.Post, $"/v1/auth/links/{token}");
        Assert.Equal("links@people.example", person.GetProperty("email").GetString());
        await browser.JsonAsync(HttpMethod.Get, "/v1/me");

        using var reuse = await host.NewBrowser().SendAsync(HttpMethod.Post, $"/v1/auth/links/{token}");
        Assert.Equal("link_invalid", (await reuse.ProblemAsync(HttpStatusCode.NotFound)).Reason());
    }

    [Fact]
    public async Task A_change_made_with_the_cookie_needs_the_csrf_header_and_a_bearer_token_does_not()
    {
        await host.PersonAsync("csrf@people.example");
        using var browser = host.NewBrowser();
        (await browser.SignInAsync("csrf@people.example")).Dispose();

        using (var forged = await browser.SendAsync(HttpMethod.Post, "/v1/me/tokens", new { name = "script" }))
        {
            Assert.Equal("csrf_token_invalid", (await forged.ProblemAsync(HttpStatusCode.Forbidden)).Reason());
        }

        using (var signOut = await browser.SendAsync(HttpMethod.Post, "/v1/auth/sign-out"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, signOut.StatusCode); // a forged sign-out is refused too
        }

        await browser.CsrfAsync();
        var created = await browser.JsonAsync(HttpMethod.Post, "/v1/me/tokens", new { name = "script" }, HttpStatusCode.Created);
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("ipt_", token, StringComparison.Ordinal);
        var listed = await browser.JsonAsync(HttpMethod.Get, "/v1/me/tokens");
        Assert.DoesNotContain(token, listed.GetRawText(), StringComparison.Ordinal);

        // A script with the token: no cookie, no CSRF header, and it can make changes.
        using var script = host.NewBrowser();
        Assert.Equal("csrf@people.example", (await script.JsonAsync(HttpMethod.Get, "/v1/me", bearer: token)).GetProperty("person").GetProperty("email").GetString());
        await script.JsonAsync(HttpMethod.Post, "/v1/me/tokens", new { name = "second" }, HttpStatusCode.Created, bearer: token);

        // Revoked: refused at once, as a person and on the reports.
        var id = created.GetProperty("info").GetProperty("id").GetString();
        using (var revoked = await browser.SendAsync(HttpMethod.Delete, $"/v1/me/tokens/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        using var me = await script.SendAsync(HttpMethod.Get, "/v1/me", bearer: token);
        Assert.Equal("sign_in_required", (await me.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
        using var report = await script.SendAsync(HttpMethod.Get, "/v1/sites/shop/stats", bearer: token);
        Assert.Equal("unknown_token", (await report.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
    }

    [Fact]
    public async Task A_new_email_keeps_the_person_and_their_roles_and_ends_their_other_sessions()
    {
        var id = await host.PersonAsync("old@people.example", true, (ScopeKind.Site, "shop", Role.Viewer));
        using var laptop = host.NewBrowser();
        using var phone = host.NewBrowser();
        (await laptop.SignInAsync("old@people.example")).Dispose();
        (await phone.SignInAsync("old@people.example")).Dispose();
        await laptop.CsrfAsync();

        var changed = await laptop.JsonAsync(HttpMethod.Patch, "/v1/me", new { email = "New@People.example" });
        Assert.Equal(id.ToString(), changed.GetProperty("id").GetString());

        var me = await laptop.JsonAsync(HttpMethod.Get, "/v1/me"); // this browser got a fresh session
        Assert.Equal("shop", me.GetProperty("sites")[0].GetProperty("id").GetString());
        using var stale = await phone.SendAsync(HttpMethod.Get, "/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        Assert.Single(await host.OutboxAsync("old@people.example")); // the old address is told
        using var oldName = await phone.SignInAsync("old@people.example");
        Assert.Equal(HttpStatusCode.Unauthorized, oldName.StatusCode);
        using var newName = await phone.SignInAsync("new@people.example");
        Assert.Equal(HttpStatusCode.OK, newName.StatusCode);

        using (var half = await laptop.SendAsync(HttpMethod.Patch, "/v1/me", new { displayName = "Bea", email = "not-an-address" }))
        {
            Assert.Equal("invalid_parameters", (await half.ProblemAsync(HttpStatusCode.BadRequest)).Reason());
        }

        Assert.Equal("", (await laptop.JsonAsync(HttpMethod.Get, "/v1/me")).GetProperty("person").GetProperty("displayName").GetString());
        var renamed = await laptop.JsonAsync(HttpMethod.Patch, "/v1/me", new { displayName = "  Béa Ünal  " });
        Assert.Equal("Béa Ünal", renamed.GetProperty("displayName").GetString());

        await host.PersonAsync("taken@people.example");
        using var taken = await laptop.SendAsync(HttpMethod.Patch, "/v1/me", new { email = "TAKEN@people.example" });
        Assert.Equal("email_taken", (await taken.ProblemAsync(HttpStatusCode.Conflict)).Reason());
    }

    [Theory]
    [InlineData("{\"email\":", HttpStatusCode.BadRequest, "invalid_parameters")]
    [InlineData("[1,2,3]", HttpStatusCode.BadRequest, "invalid_parameters")]
    [InlineData("null", HttpStatusCode.BadRequest, "invalid_parameters")]
    [InlineData("{\"email\":\"a@b.example\",\"password\":\"OVERSIZED\"}", HttpStatusCode.RequestEntityTooLarge, "body_too_large")]
    public async Task Hostile_bodies_get_a_reason_not_a_crash(string body, HttpStatusCode status, string reason)
    {
        using var browser = host.NewBrowser();
        using var response = await browser.SendAsync(HttpMethod.Post, "/v1/auth/sign-in", body.Replace("OVERSIZED", new string('x', 20_000), StringComparison.Ordinal));
        Assert.Equal(reason, (await response.ProblemAsync(status)).Reason());
    }

    [Theory]
    [InlineData("no-at-sign")]
    [InlineData("two@@ats.example")]
    [InlineData("tab\t@x.example")]
    [InlineData("")]
    public async Task A_link_request_for_no_address_is_a_400(string email)
    {
        using var browser = host.NewBrowser();
        using var response = await browser.SendAsync(HttpMethod.Post, "/v1/auth/links", new { email });
        Assert.Equal("invalid_parameters", (await response.ProblemAsync(HttpStatusCode.BadRequest)).Reason());
    }
}
