using System.Net;
using System.Text.Json;
using Insights.ControlPlane.Model;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>
/// A partner sets up a client without ever handling the client's password: partner creates the client → the owner's
/// invitation is in the outbox → the owner accepts with their own password, is signed in → sees their site and reads
/// its report with the session cookie.
/// </summary>
public sealed class ProvisioningFlowTests(AccountsHost host) : IClassFixture<AccountsHost>
{
    private const string OwnerPassword = "the owner's own secret 🔑 Ünïcode";

    [Fact]
    public async Task A_partner_provisions_a_client_and_the_owner_signs_in_with_their_own_password_and_reads_the_report()
    {
        var partner = await host.PartnerAsync("Agency North");
        await host.PersonAsync("admin@agency.example", true, (ScopeKind.Partner, partner.ToString("D"), Role.PartnerAdmin));
        var at = DateTime.UtcNow.AddMinutes(-30);
        await host.Database.InsertAsync(
            new TestEvent("acme-1", "acme-shop", at, "v1"),
            new TestEvent("acme-2", "acme-shop", at.AddMinutes(1), "v2", "/pricing"),
            new TestEvent("acme-3", "acme-shop", at.AddMinutes(2), "v2", "/checkout"));

        using var agency = host.NewBrowser();
        using (var signIn = await agency.SignInAsync("admin@agency.example"))
        {
            Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        }

        await agency.CsrfAsync();
        var client = await agency.JsonAsync(HttpMethod.Post, $"/v1/partners/{partner}/clients",
            new { name = "Acme Ltd", ownerEmail = "Owner@Acme.example", sites = new[] { new { id = "acme-shop", name = "Acme shop" } } },
            HttpStatusCode.Created);

        // The partner gets the snippet's key and the invitation link — and nothing that is a password.
        var site = client.GetProperty("sites")[0];
        Assert.StartsWith("ik_pub_", site.GetProperty("writeKey").GetString(), StringComparison.Ordinal);
        var link = client.GetProperty("invitationLink").GetString()!;
        Assert.Contains("/v1/invitations/iin_", link, StringComparison.Ordinal);
        Assert.DoesNotContain("password", client.GetRawText(), StringComparison.OrdinalIgnoreCase);

        // The mail in the outbox carries the same link the partner saw.
        var token = await host.LinkInMailAsync("owner@acme.example", "/v1/invitations/");
        Assert.EndsWith(token, link, StringComparison.Ordinal);

        using var owner = host.NewBrowser();
        var accepted = await owner.JsonAsync(HttpMethod.Post, $"/v1/invitations/{token}/accept", new { password = OwnerPassword, displayName = "Olga Owner" });
        Assert.Equal("Owner@Acme.example", accepted.GetProperty("email").GetString());

        var me = await owner.JsonAsync(HttpMethod.Get, "/v1/me");
        var visible = me.GetProperty("sites").EnumerateArray().Select(s => (s.GetProperty("id").GetString(), s.GetProperty("access").GetString())).ToList();
        Assert.Equal([("acme-shop", "owner")], visible);

        // The report, with the cookie alone (the site reaches the live catalog within the directory's refresh).
        var stats = await Eventually(() => owner.SendAsync(HttpMethod.Get, "/v1/sites/acme-shop/stats"));
        Assert.Equal(3, stats.GetProperty("pageViews").GetInt32());

        // The owner signs in again later with the password only they know; the partner never sent it.
        using var again = host.NewBrowser();
        using (var second = await again.SignInAsync("owner@acme.example", OwnerPassword))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }

        Assert.DoesNotContain(agency.SentBodies, body => body.Contains(OwnerPassword, StringComparison.Ordinal));

        // The link is single use.
        using var reuse = await host.NewBrowser().SendAsync(HttpMethod.Post, $"/v1/invitations/{token}/accept", new { password = "someone else's password" });
        Assert.Equal("invitation_not_found", (await reuse.ProblemAsync(HttpStatusCode.NotFound)).Reason());
    }

    [Fact]
    public async Task The_owner_moves_the_client_to_direct_ownership_and_the_partner_loses_access_while_the_owner_keeps_everything()
    {
        var partner = await host.PartnerAsync("Agency South");
        var admin = await host.PersonAsync("admin@south.example", true, (ScopeKind.Partner, partner.ToString("D"), Role.PartnerAdmin));
        var adminToken = await host.TokenAsync(admin);
        using var agency = host.NewBrowser();
        var client = await agency.JsonAsync(HttpMethod.Post, $"/v1/partners/{partner}/clients",
            new { name = "Bistro Ü", ownerEmail = "chef@bistro.example" }, HttpStatusCode.Created, bearer: adminToken);
        var organisation = client.GetProperty("organisationId").GetString();
        var siteId = client.GetProperty("sites")[0].GetProperty("id").GetString();
        Assert.Equal("bistro", siteId); // derived from the name

        // The first invitation went astray: while the client has no owner, the partner may send another.
        await agency.JsonAsync(HttpMethod.Post, $"/v1/partners/{partner}/clients/{organisation}/owner-invitation",
            new { email = "chef@bistro.example" }, HttpStatusCode.Created, bearer: adminToken);
        var token = await host.LinkInMailAsync("chef@bistro.example", "/v1/invitations/");
        using var owner = host.NewBrowser();
        await owner.JsonAsync(HttpMethod.Post, $"/v1/invitations/{token}/accept", new { password = "chef's own password" });
        await owner.CsrfAsync();
        using (var taken = await agency.SendAsync(HttpMethod.Post, $"/v1/partners/{partner}/clients/{organisation}/owner-invitation",
            new { email = "someone@else.example" }, adminToken))
        {
            Assert.Equal("owner_exists", (await taken.ProblemAsync(HttpStatusCode.Conflict)).Reason());
        }

        // The partner admin cannot transfer the client away from its owner (nor to itself): only the owner can.
        using (var refused = await agency.SendAsync(HttpMethod.Post, $"/v1/organisations/{organisation}/transfer", new { toPartner = (string?)null }, adminToken))
        {
            Assert.Equal("role_insufficient", (await refused.ProblemAsync(HttpStatusCode.Forbidden)).Reason());
        }

        var moved = await owner.JsonAsync(HttpMethod.Post, $"/v1/organisations/{organisation}/transfer", new { toPartner = (string?)null });
        Assert.Equal(JsonValueKind.Null, moved.GetProperty("partnerId").ValueKind);

        using (var gone = await agency.SendAsync(HttpMethod.Get, $"/v1/sites/{siteId}/keys", bearer: adminToken))
        {
            Assert.Equal("site_not_found", (await gone.ProblemAsync(HttpStatusCode.NotFound)).Reason());
        }

        var clients = await agency.JsonAsync(HttpMethod.Get, $"/v1/partners/{partner}/clients", bearer: adminToken);
        Assert.Empty(clients.EnumerateArray());
        var keys = await owner.JsonAsync(HttpMethod.Get, $"/v1/sites/{siteId}/keys");
        Assert.Equal(3, keys.GetArrayLength());

        // And back: the owner grants the partner access again.
        await owner.JsonAsync(HttpMethod.Post, $"/v1/organisations/{organisation}/transfer", new { toPartner = partner });
        await agency.JsonAsync(HttpMethod.Get, $"/v1/sites/{siteId}/keys", bearer: adminToken);

        var audit = await owner.JsonAsync(HttpMethod.Get, $"/v1/organisations/{organisation}/audit");
        var actions = audit.EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.Contains("organisation.transferred", actions);
        Assert.Contains("invitation.accepted", actions);
        Assert.Contains("key.issued", actions);
    }

    [Fact]
    public async Task An_invitation_to_an_address_that_already_signs_in_is_accepted_only_by_that_person_signed_in()
    {
        var organisation = await host.Sites.CreateOrganisationAsync("Café Zwei", null, Insights.ControlPlane.Actor.System, Http.Ct);
        await host.Sites.CreateSiteAsync(organisation.Id, "cafe-zwei", "Café Zwei", null, Insights.ControlPlane.Actor.System, Http.Ct);
        await host.PersonAsync("owner@cafe.example", true, (ScopeKind.Organisation, organisation.Id.ToString("D"), Role.Owner));
        await host.PersonAsync("barista@cafe.example");
        await host.PersonAsync("intruder@cafe.example");

        using var owner = host.NewBrowser();
        (await owner.SignInAsync("owner@cafe.example")).Dispose();
        await owner.CsrfAsync();
        var invitation = await owner.JsonAsync(HttpMethod.Post, $"/v1/organisations/{organisation.Id}/invitations",
            new { email = "Barista@Cafe.example", role = "agent" }, HttpStatusCode.Created);
        var token = invitation.GetProperty("link").GetString()!.Split('/')[^1];

        // Not signed in: the invitation must not become a way to set an existing person's password.
        using (var anonymous = await host.NewBrowser().SendAsync(HttpMethod.Post, $"/v1/invitations/{token}/accept", new { password = "taking over the account" }))
        {
            Assert.Equal("sign_in_to_accept", (await anonymous.ProblemAsync(HttpStatusCode.Conflict)).Reason());
        }

        using var intruder = host.NewBrowser();
        (await intruder.SignInAsync("intruder@cafe.example")).Dispose();
        using (var other = await intruder.SendAsync(HttpMethod.Post, $"/v1/invitations/{token}/accept", new { }))
        {
            Assert.Equal("invitation_for_another_person", (await other.ProblemAsync(HttpStatusCode.Forbidden)).Reason());
        }

        using var barista = host.NewBrowser();
        (await barista.SignInAsync("barista@cafe.example")).Dispose();
        await barista.JsonAsync(HttpMethod.Post, $"/v1/invitations/{token}/accept", new { });
        var me = await barista.JsonAsync(HttpMethod.Get, "/v1/me");
        Assert.Equal("agent", me.GetProperty("sites")[0].GetProperty("access").GetString());

        // The barista's old password still works: accepting touched nothing of the sign-in.
        using var again = await host.NewBrowser().SignInAsync("barista@cafe.example");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    private static async Task<System.Text.Json.JsonElement> Eventually(Func<Task<HttpResponseMessage>> request)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await request();
            var body = await response.Content.ReadAsStringAsync(Http.Ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return System.Text.Json.JsonSerializer.Deserialize<System.Text.Json.JsonElement>(body);
            }

            Assert.True(attempt < 50, $"still {(int)response.StatusCode} after 5 s: {body}");
            await Task.Delay(100, Http.Ct);
        }
    }
}
