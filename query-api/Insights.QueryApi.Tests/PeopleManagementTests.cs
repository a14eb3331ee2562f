using System.Net;
using System.Text.Json;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>
/// An organisation's admins and owners manage who belongs to it: they see its people and pending invitations, remove a
/// role (at the organisation or one site), and revoke an invitation whose link then stops working. Owners are removed
/// only by owners, and the last owner never.
/// </summary>
public sealed class PeopleManagementTests(AccountsHost host) : IClassFixture<AccountsHost>
{
    [Fact]
    public async Task Admins_list_remove_and_revoke_and_an_organisation_always_keeps_an_owner()
    {
        var organisation = await host.Sites.CreateOrganisationAsync("Café Ünïcode", null, Actor.System, Http.Ct);
        await host.Sites.CreateSiteAsync(organisation.Id, "people-cafe", "Café", null, Actor.System, Http.Ct);
        var org = organisation.Id.ToString("D");
        var owner = await host.PersonAsync("owner@people-cafe.example", true, (ScopeKind.Organisation, org, Role.Owner));
        var admin = await host.PersonAsync("admin@people-cafe.example", true, (ScopeKind.Organisation, org, Role.Admin));
        var viewer = await host.PersonAsync("viewer@people-cafe.example", true, (ScopeKind.Site, "people-cafe", Role.Viewer));
        var tokens = new Dictionary<Guid, string> { [owner] = await host.TokenAsync(owner), [admin] = await host.TokenAsync(admin), [viewer] = await host.TokenAsync(viewer) };
        using var browser = host.NewBrowser();

        var people = await browser.JsonAsync(HttpMethod.Get, $"/v1/organisations/{org}/people", bearer: tokens[admin]);
        Assert.Equal(
            [("owner@people-cafe.example", "organisation", "owner"), ("admin@people-cafe.example", "organisation", "admin"), ("viewer@people-cafe.example", "site", "viewer")],
            Members(people).Select(m => (m.Email, m.Scope, m.Role)));
        Assert.Empty(people.GetProperty("invitations").EnumerateArray());

        // An admin cannot remove an owner; the owner cannot remove themselves while they are the only one.
        await RefusedAsync(browser, $"/v1/organisations/{org}/people/{owner}", tokens[admin], HttpStatusCode.Forbidden, "role_insufficient");
        await RefusedAsync(browser, $"/v1/organisations/{org}/people/{owner}", tokens[owner], HttpStatusCode.Conflict, "last_owner");
        // Hostile ids: not a guid, non-ASCII, a guid of nobody here; and a role at the site is not one at the organisation.
        await RefusedAsync(browser, $"/v1/organisations/{org}/people/not-a-guid", tokens[admin], HttpStatusCode.NotFound, "person_not_found");
        await RefusedAsync(browser, $"/v1/organisations/{org}/people/{Uri.EscapeDataString("ünï💥")}", tokens[admin], HttpStatusCode.NotFound, "person_not_found");
        await RefusedAsync(browser, $"/v1/organisations/{org}/people/{viewer}", tokens[admin], HttpStatusCode.NotFound, "person_not_found");

        // A pending invitation is listed, revoked, and its link no longer works.
        var invited = await browser.JsonAsync(HttpMethod.Post, $"/v1/organisations/{org}/invitations", new { email = "Zoë@people-cafe.example", role = "agent" },
            HttpStatusCode.Created, tokens[admin]);
        var invitation = invited.GetProperty("id").GetString();
        people = await browser.JsonAsync(HttpMethod.Get, $"/v1/organisations/{org}/people", bearer: tokens[owner]);
        Assert.Equal([invitation], people.GetProperty("invitations").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.DoesNotContain("iin_", people.GetRawText(), StringComparison.Ordinal);
        using (var revoked = await browser.SendAsync(HttpMethod.Delete, $"/v1/organisations/{org}/invitations/{invitation}", bearer: tokens[admin]))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        await RefusedAsync(browser, $"/v1/organisations/{org}/invitations/{invitation}", tokens[admin], HttpStatusCode.NotFound, "invitation_not_found");
        var token = await host.LinkInMailAsync("Zoë@people-cafe.example", "/v1/invitations/");
        using (var accept = await host.NewBrowser().SendAsync(HttpMethod.Post, $"/v1/invitations/{token}/accept", new { password = "a password of some length" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, accept.StatusCode);
        }

        // An owner invitation, once there is an owner, is the owners' to take back.
        var coOwner = (await browser.JsonAsync(HttpMethod.Post, $"/v1/organisations/{org}/invitations", new { email = "co-owner@people-cafe.example", role = "owner" },
            HttpStatusCode.Created, tokens[owner])).GetProperty("id").GetString();
        await RefusedAsync(browser, $"/v1/organisations/{org}/invitations/{coOwner}", tokens[admin], HttpStatusCode.Forbidden, "role_insufficient");
        await RemovedAsync(browser, $"/v1/organisations/{org}/invitations/{coOwner}", tokens[owner]);

        // The site viewer removed at the site: their next request no longer reaches it.
        await RemovedAsync(browser, $"/v1/sites/people-cafe/people/{viewer}", tokens[admin]);
        using (var settings = await browser.SendAsync(HttpMethod.Get, "/v1/sites/people-cafe/settings", bearer: tokens[viewer]))
        {
            Assert.Equal("site_not_found", (await settings.ProblemAsync(HttpStatusCode.NotFound)).Reason());
        }

        // With a second owner, one owner may remove the other; the admin removed loses the organisation at once.
        var second = await host.PersonAsync("second-owner@people-cafe.example", true, (ScopeKind.Organisation, org, Role.Owner));
        await RemovedAsync(browser, $"/v1/organisations/{org}/people/{admin}", tokens[owner]);
        await RefusedAsync(browser, $"/v1/organisations/{org}/people", tokens[admin], HttpStatusCode.NotFound, "organisation_not_found", HttpMethod.Get);
        await RemovedAsync(browser, $"/v1/organisations/{org}/people/{second}", tokens[owner]);

        people = await browser.JsonAsync(HttpMethod.Get, $"/v1/organisations/{org}/people", bearer: tokens[owner]);
        Assert.Equal(["owner@people-cafe.example"], Members(people).Select(m => m.Email));
        Assert.Empty(people.GetProperty("invitations").EnumerateArray());
        var audit = await browser.JsonAsync(HttpMethod.Get, $"/v1/organisations/{org}/audit", bearer: tokens[owner]);
        var actions = audit.EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.Equal(3, actions.Count(a => a == "person.removed"));
        Assert.Equal(2, actions.Count(a => a == "invitation.revoked"));
    }

    private static IEnumerable<(string? Email, string? Scope, string? Role)> Members(JsonElement people) =>
        people.GetProperty("members").EnumerateArray().Select(m => (m.GetProperty("email").GetString(), m.GetProperty("scope").GetString(), m.GetProperty("role").GetString()));

    private static async Task RemovedAsync(Browser browser, string url, string token)
    {
        using var response = await browser.SendAsync(HttpMethod.Delete, url, bearer: token);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private static async Task RefusedAsync(Browser browser, string url, string token, HttpStatusCode status, string reason, HttpMethod? method = null)
    {
        using var response = await browser.SendAsync(method ?? HttpMethod.Delete, url, bearer: token);
        Assert.Equal(reason, (await response.ProblemAsync(status)).Reason());
    }
}
