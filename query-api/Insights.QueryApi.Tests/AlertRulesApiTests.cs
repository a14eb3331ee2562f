using System.Net;
using System.Text.Json;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>
/// Alert rules and the delivery log over real HTTP, as a site admin manages them: secrets generated and shown once, masked
/// after; hostile rules refused field by field with nothing stored; destinations in private networks refused; the log
/// filtered by status and dead deliveries re-queued — each only for the caller's own site.
/// </summary>
public sealed class AlertRulesApiTests(AccountsHost host) : IClassFixture<AccountsHost>
{
    // Public address literals: the check needs no DNS, and nothing is sent when rules are saved.
    private const string HookUrl = "https://1.1.1.1/insights/alerts";
    private const string SlackUrl = "https://1.0.0.1/services/T0000/B0000/slacksecretXYZW";

    [Fact]
    public async Task An_admin_saves_rules_sees_the_signing_secret_once_masked_after_and_kept_across_saves()
    {
        var (site, admin, viewer, _) = await ArrangeAsync("alerts-once");
        using var browser = host.NewBrowser();

        var saved = await browser.JsonAsync(HttpMethod.Put, $"/v1/sites/{site}/alert-rules", Rules(), bearer: admin);
        var hook = Destination(saved, 0, 0);
        var secret = hook.GetProperty("secret").GetString()!;
        Assert.StartsWith("iws_", secret, StringComparison.Ordinal);
        Assert.True(secret.Length >= 40);
        Assert.Equal(HookUrl, hook.GetProperty("url").GetString());
        var slack = Destination(saved, 0, 1);
        Assert.Equal(JsonValueKind.Null, slack.GetProperty("secret").ValueKind);
        Assert.Equal("https://1.0.0.1/…XYZW", slack.GetProperty("url").GetString());

        // Read back: masked; the settings show no rules and no secret at all.
        var read = await browser.JsonAsync(HttpMethod.Get, $"/v1/sites/{site}/alert-rules", bearer: admin);
        Assert.DoesNotContain(secret, read.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("slacksecret", read.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(hook.GetProperty("secretHint").GetString(), Destination(read, 0, 0).GetProperty("secretHint").GetString());
        Assert.Equal("lead_score", read.GetProperty("rules")[1].GetProperty("kind").GetString());
        Assert.Equal(60, read.GetProperty("rules")[1].GetProperty("minScore").GetInt32());
        var settings = await browser.JsonAsync(HttpMethod.Get, $"/v1/sites/{site}/settings", bearer: admin);
        Assert.DoesNotContain(secret, settings.GetRawText(), StringComparison.Ordinal);
        Assert.Empty(settings.GetProperty("alerts").EnumerateArray());
        using (var patch = await browser.SendAsync(HttpMethod.Patch, $"/v1/sites/{site}/settings", new { alerts = Array.Empty<object>() }, admin))
        {
            Assert.Equal("alerts", (await patch.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").EnumerateObject().Single().Name);
        }

        // Saved again with the same ids (and the Slack URL left out): the secret and the URL stay, nothing is shown.
        var again = await browser.JsonAsync(HttpMethod.Put, $"/v1/sites/{site}/alert-rules", Rules(slackUrl: null), bearer: admin);
        Assert.Equal(JsonValueKind.Null, Destination(again, 0, 0).GetProperty("secret").ValueKind);
        var stored = (await host.Sites.GetSettingsAsync(site, Http.Ct))!.Alerts[0];
        Assert.Equal(secret, stored.Destinations[0].Secret);
        Assert.Equal(SlackUrl, stored.Destinations[1].Url);

        // Rotated: a new secret, shown once, and the stored one replaced.
        var rotated = await browser.JsonAsync(HttpMethod.Put, $"/v1/sites/{site}/alert-rules", Rules(rotate: true), bearer: admin);
        var fresh = Destination(rotated, 0, 0).GetProperty("secret").GetString();
        Assert.NotEqual(secret, fresh);
        Assert.Equal(fresh, (await host.Sites.GetSettingsAsync(site, Http.Ct))!.Alerts[0].Destinations[0].Secret);

        // Who may: a viewer may not, a site key manages nothing.
        using (var refused = await browser.SendAsync(HttpMethod.Get, $"/v1/sites/{site}/alert-rules", bearer: viewer))
        {
            Assert.Equal("role_insufficient", (await refused.ProblemAsync(HttpStatusCode.Forbidden)).Reason());
        }

        using (var refused = await browser.SendAsync(HttpMethod.Put, $"/v1/sites/{TestSites.Shop}/alert-rules", Rules(), TestSites.ShopRead))
        {
            Assert.Equal("key_cannot_manage", (await refused.ProblemAsync(HttpStatusCode.Forbidden)).Reason());
        }
    }

    [Fact]
    public async Task Hostile_rules_and_private_destinations_are_refused_naming_the_field_and_nothing_is_stored()
    {
        var (site, admin, _, otherAdmin) = await ArrangeAsync("alerts-hostile");
        using var browser = host.NewBrowser();
        await browser.JsonAsync(HttpMethod.Put, $"/v1/sites/{site}/alert-rules", Rules(), bearer: admin);
        var before = (await host.Sites.GetSettingsAsync(site, Http.Ct))!.Alerts;

        // Server-side request forgery: loopback, private, link-local (cloud metadata), unique-local, plain http.
        foreach (var url in new[]
        {
            "https://127.0.0.1/x", "https://localhost:8081/v1", "https://10.1.2.3/", "https://192.168.0.1/", "https://169.254.169.254/latest/meta-data",
            "https://[::1]/", "https://[fd00::1]/", "https://[::ffff:127.0.0.1]/", "https://0.0.0.0/", "http://1.1.1.1/plain",
        })
        {
            var problem = await RefusedAsync(browser, site, admin, Rules(hookUrl: url), HttpStatusCode.BadRequest);
            Assert.Equal("invalid_parameters", problem.Reason());
            Assert.Equal("rules[0].destinations[0].url", problem.GetProperty("errors").EnumerateObject().Single().Name);
        }

        // Malformed and oversized rules.
        var destination = new[] { new { id = "hook", kind = "webhook", url = HookUrl } };
        foreach (var body in new object[]
        {
            new { rules = Enumerable.Range(0, 21).Select(i => new { id = $"r{i}", kind = "target_account", destinations = destination }) },
            new { rules = new[] { new { id = "règle-ü", kind = "target_account", destinations = destination } } },
            new { rules = new[] { new { id = "x", kind = "send_email_to_everyone", destinations = destination } } },
            new { rules = new[] { new { id = "x", kind = "lead_score", destinations = destination } } },
            new { rules = new[] { new { id = "x", kind = "target_account", destinations = destination }, new { id = "x", kind = "target_account", destinations = destination } } },
            new { rules = new[] { new { id = "x", kind = "target_account", destinations = new[] { new { id = "m", kind = "email", url = HookUrl } } } } },
            new { rules = new[] { new { id = "x", kind = "target_account", destinations = new[] { new { id = "m", kind = "webhook", url = "https://user:pw@1.1.1.1/" } } } } },
            new { rules = new[] { new { id = "x", kind = "target_account", destinations = new[] { new { id = "m", kind = "webhook", url = "https://1.1.1.1/\u0000a" } } } } },
            new { rules = new[] { new { id = "x", kind = "target_account", destinations = Array.Empty<object>() } } },
            new { rules = new[] { new { id = "x", kind = "returning_high_intent", intentPaths = new[] { "pricing" }, destinations = destination } } },
            new { rules = new object?[] { null } },
            new { nothing = true },
            "[1, 2",
        })
        {
            await RefusedAsync(browser, site, admin, body, HttpStatusCode.BadRequest);
        }

        await RefusedAsync(browser, site, admin, new { rules = new[] { new { id = "x", name = new string('€', 20_000), kind = "target_account" } } },
            HttpStatusCode.RequestEntityTooLarge);
        // Another organisation's admin cannot tell the site exists.
        Assert.Equal("site_not_found", (await RefusedAsync(browser, site, otherAdmin, Rules(), HttpStatusCode.NotFound)).Reason());

        var after = (await host.Sites.GetSettingsAsync(site, Http.Ct))!.Alerts;
        Assert.Equal(JsonSerializer.Serialize(before), JsonSerializer.Serialize(after));
    }

    [Fact]
    public async Task The_delivery_log_filters_by_status_and_a_retry_requeues_only_a_dead_delivery_of_this_site()
    {
        var (site, admin, viewer, _) = await ArrangeAsync("alerts-log");
        var (other, _, _, _) = await ArrangeAsync("alerts-log-other");
        var dead = await DeliveryAsync(site, "s1", AlertDeliveryStatus.Dead);
        var delivered = await DeliveryAsync(site, "s2", AlertDeliveryStatus.Delivered);
        var othersDead = await DeliveryAsync(other, "s3", AlertDeliveryStatus.Dead);
        using var browser = host.NewBrowser();

        var all = await browser.JsonAsync(HttpMethod.Get, $"/v1/sites/{site}/alerts/deliveries", bearer: admin);
        Assert.Equal([delivered, dead], all.GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("id").GetGuid()));
        var deadOnly = await browser.JsonAsync(HttpMethod.Get, $"/v1/sites/{site}/alerts/deliveries?status=dead", bearer: admin);
        var row = Assert.Single(deadOnly.GetProperty("deliveries").EnumerateArray());
        Assert.Equal((dead, "dead", 8, 500), (row.GetProperty("id").GetGuid(), row.GetProperty("status").GetString(), row.GetProperty("attempts").GetInt32(),
            row.GetProperty("lastStatusCode").GetInt32()));
        using (var bogus = await browser.SendAsync(HttpMethod.Get, $"/v1/sites/{site}/alerts/deliveries?status=d%C3%A9ad", bearer: admin))
        {
            Assert.Equal("status", (await bogus.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").EnumerateObject().Single().Name);
        }

        var retried = await browser.JsonAsync(HttpMethod.Post, $"/v1/sites/{site}/alerts/deliveries/{dead}/retry", bearer: admin);
        Assert.Equal(("pending", 0), (retried.GetProperty("status").GetString(), retried.GetProperty("attempts").GetInt32()));

        using (var notDead = await browser.SendAsync(HttpMethod.Post, $"/v1/sites/{site}/alerts/deliveries/{delivered}/retry", bearer: admin))
        {
            Assert.Equal("delivery_not_dead", (await notDead.ProblemAsync(HttpStatusCode.Conflict)).Reason());
        }

        foreach (var id in new[] { othersDead.ToString(), "not-a-guid", Uri.EscapeDataString("ünï💥"), Guid.NewGuid().ToString() })
        {
            using var missing = await browser.SendAsync(HttpMethod.Post, $"/v1/sites/{site}/alerts/deliveries/{id}/retry", bearer: admin);
            Assert.Equal("delivery_not_found", (await missing.ProblemAsync(HttpStatusCode.NotFound)).Reason());
        }

        using (var refused = await browser.SendAsync(HttpMethod.Get, $"/v1/sites/{site}/alerts/deliveries", bearer: viewer))
        {
            Assert.Equal("role_insufficient", (await refused.ProblemAsync(HttpStatusCode.Forbidden)).Reason());
        }

        var otherLog = await browser.JsonAsync(HttpMethod.Get, $"/v1/sites/{site}/alerts/deliveries?status=dead", bearer: admin);
        Assert.DoesNotContain(othersDead.ToString(), otherLog.GetRawText(), StringComparison.Ordinal);
    }

    private async Task<(string Site, string Admin, string Viewer, string OtherAdmin)> ArrangeAsync(string site)
    {
        var organisation = await host.Sites.CreateOrganisationAsync($"Org {site} — Ünïcode", null, Actor.System, Http.Ct);
        await host.Sites.CreateSiteAsync(organisation.Id, site, site, null, Actor.System, Http.Ct);
        var stranger = await host.Sites.CreateOrganisationAsync($"Stranger of {site}", null, Actor.System, Http.Ct);
        var admin = await host.PersonAsync($"admin@{site}.example", true, (ScopeKind.Organisation, organisation.Id.ToString("D"), Role.Admin));
        var viewer = await host.PersonAsync($"viewer@{site}.example", true, (ScopeKind.Site, site, Role.Viewer));
        var other = await host.PersonAsync($"admin@stranger-{site}.example", true, (ScopeKind.Organisation, stranger.Id.ToString("D"), Role.Admin));
        return (site, await host.TokenAsync(admin), await host.TokenAsync(viewer), await host.TokenAsync(other));
    }

    private async Task<Guid> DeliveryAsync(string site, string session, AlertDeliveryStatus status)
    {
        await using var db = await host.Store.CreateDbContextAsync(Http.Ct);
        var alertId = Live.Alerts.AlertPayload.IdOf(site, "gone", session);
        var now = DateTimeOffset.UtcNow;
        db.FiredAlerts.Add(new FiredAlert { Id = alertId, SiteId = site, RuleId = "gone", SessionId = session, VisitorId = "v", FiredAt = now });
        var delivery = new AlertDelivery
        {
            Id = Guid.CreateVersion7(), AlertId = alertId, SiteId = site, RuleId = "gone", DestinationId = "hook", DestinationKind = "webhook", Status = status,
            Attempts = 8, NextAttemptAt = now, CreatedAt = now, LastStatusCode = 500, LastError = "HTTP 500: no",
        };
        db.AlertDeliveries.Add(delivery);
        await db.SaveChangesAsync(Http.Ct);
        await Task.Delay(5, Http.Ct); // distinct creation times: the log is newest first
        return delivery.Id;
    }

    private static object Rules(string hookUrl = HookUrl, string? slackUrl = SlackUrl, bool rotate = false) => new
    {
        rules = new object[]
        {
            new
            {
                id = "target", name = "Target account — Zielkunde", kind = "target_account",
                destinations = new object[]
                {
                    new { id = "hook", kind = "webhook", url = hookUrl, rotateSecret = rotate },
                    new { id = "slack", kind = "slack", url = slackUrl },
                },
            },
            new { id = "hot", kind = "lead_score", minScore = 60, destinations = new[] { new { id = "hook", kind = "webhook", url = "https://1.1.1.1/hot" } } },
        },
    };

    private static JsonElement Destination(JsonElement view, int rule, int destination) =>
        view.GetProperty("rules")[rule].GetProperty("destinations")[destination];

    private static async Task<JsonElement> RefusedAsync(Browser browser, string site, string token, object body, HttpStatusCode status)
    {
        using var response = await browser.SendAsync(HttpMethod.Put, $"/v1/sites/{site}/alert-rules", body, token);
        return await response.ProblemAsync(status);
    }
}
