using System.Net;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.DevStack.Testing;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>
/// Two partners, three clients: Alpha Agency runs "Alpha One" (site alpha-one-shop) and "Alpha Two" (alpha-two-shop),
/// Bravo Agency runs "Bravo One" (bravo-one-shop). One person per role, all of them at Alpha (and at Alpha One where the
/// role is an organisation's). Each asks every endpoint about their own client, the other client of their partner, and
/// the other partner's client.
/// </summary>
public sealed class IsolationWorld(DevStackFixture stack) : IAsyncLifetime
{
    public AccountsHost Host { get; } = new(stack);

    public Guid AlphaPartner { get; private set; }

    public Guid BravoPartner { get; private set; }

    public Dictionary<string, Tenant> Tenants { get; } = [];

    public Dictionary<string, string> Tokens { get; } = [];

    public Guid StaffAssigned { get; private set; }

    public string AlphaOneReadKey { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        await Host.InitializeAsync();
        AlphaPartner = await Host.PartnerAsync("Alpha Agency");
        BravoPartner = await Host.PartnerAsync("Bravo Agency");
        Tenants["own"] = await ClientAsync(AlphaPartner, "Alpha One Client", "alpha-one-shop");
        Tenants["other organisation"] = await ClientAsync(AlphaPartner, "Alpha Two Client", "alpha-two-shop");
        Tenants["other partner"] = await ClientAsync(BravoPartner, "Bravo One Client", "bravo-one-shop");
        AlphaOneReadKey = (await Host.Sites.IssueKeyAsync("alpha-one-shop", SiteKeyKind.Read, "matrix", Actor.System, Http.Ct)).Key;

        var partner = AlphaPartner.ToString("D");
        var alphaOne = Tenants["own"].Organisation.ToString("D");
        StaffAssigned = await Host.PersonAsync("staff-assigned@alpha.example", true,
            (ScopeKind.Partner, partner, Role.PartnerStaff), (ScopeKind.Organisation, alphaOne, Role.PartnerStaff));
        Dictionary<string, Guid> people = new()
        {
            ["partner admin"] = await Host.PersonAsync("partner-admin@alpha.example", true, (ScopeKind.Partner, partner, Role.PartnerAdmin)),
            ["partner staff, assigned"] = StaffAssigned,
            ["partner staff, not assigned"] = await Host.PersonAsync("staff@alpha.example", true, (ScopeKind.Partner, partner, Role.PartnerStaff)),
            ["owner"] = await Host.PersonAsync("owner@alpha-one.example", true, (ScopeKind.Organisation, alphaOne, Role.Owner)),
            ["admin"] = await Host.PersonAsync("admin@alpha-one.example", true, (ScopeKind.Organisation, alphaOne, Role.Admin)),
            ["agent"] = await Host.PersonAsync("agent@alpha-one.example", true, (ScopeKind.Organisation, alphaOne, Role.Agent)),
            ["viewer"] = await Host.PersonAsync("viewer@alpha-one.example", true, (ScopeKind.Organisation, alphaOne, Role.Viewer)),
            ["none"] = await Host.PersonAsync("nobody@elsewhere.example"),
        };
        foreach (var (role, id) in people)
        {
            Tokens[role] = await Host.TokenAsync(id);
        }

        await Host.CatalogHasAsync([.. Tenants.Values.Select(t => t.Site)]);
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();

    private async Task<Tenant> ClientAsync(Guid partner, string name, string site)
    {
        var organisation = await Host.Sites.CreateOrganisationAsync(name, partner, Actor.System, Http.Ct);
        await Host.Sites.CreateSiteAsync(organisation.Id, site, name + " shop", null, Actor.System, Http.Ct);
        return new Tenant(partner, organisation.Id, name, site);
    }
}

public sealed record Tenant(Guid Partner, Guid Organisation, string Name, string Site)
{
    /// <summary>Strings that only this tenant's data contains.</summary>
    public IEnumerable<string> Markers => [Organisation.ToString("D"), Name, Site];
}

public sealed class IsolationMatrixTests(IsolationWorld world) : IClassFixture<IsolationWorld>
{
    public static readonly string[] Roles =
        ["partner admin", "partner staff, assigned", "partner staff, not assigned", "owner", "admin", "agent", "viewer", "none"];

    public static readonly string[] Targets = ["own", "other organisation", "other partner"];

    /// <summary>A well-formed id that is nobody's and no invitation's: removals and revocations find nothing after the tenant check.</summary>
    private const string NoOne = "0190a000-0000-7000-8000-000000000001";

    /// <summary>Every accounts and management endpoint, with the scope it checks and what it needs (README: roles × permissions).</summary>
    public static readonly Endpoint[] Endpoints =
    [
        new("report: GET stats", ScopeKind.Site, "GET", "/v1/sites/{site}/stats", null, Need.Viewer, HttpStatusCode.OK),
        new("report: GET stats, filtered and compared", ScopeKind.Site, "GET", "/v1/sites/{site}/stats?country=DE&channel=search&compare=previous", null, Need.Viewer, HttpStatusCode.OK),
        new("report: GET orders", ScopeKind.Site, "GET", "/v1/sites/{site}/orders", null, Need.Viewer, HttpStatusCode.OK),
        new("a person's data: POST subjects/erase", ScopeKind.Site, "POST", "/v1/sites/{site}/subjects/erase", new { anonymousId = "matrix-nobody" }, Need.Admin, HttpStatusCode.OK),
        new("GET settings", ScopeKind.Site, "GET", "/v1/sites/{site}/settings", null, Need.Admin, HttpStatusCode.OK),
        new("PATCH settings", ScopeKind.Site, "PATCH", "/v1/sites/{site}/settings", new { timeZone = "UTC" }, Need.Admin, HttpStatusCode.OK),
        new("GET keys", ScopeKind.Site, "GET", "/v1/sites/{site}/keys", null, Need.Admin, HttpStatusCode.OK),
        new("GET alert rules", ScopeKind.Site, "GET", "/v1/sites/{site}/alert-rules", null, Need.Admin, HttpStatusCode.OK),
        new("PUT alert rules", ScopeKind.Site, "PUT", "/v1/sites/{site}/alert-rules", new { rules = Array.Empty<object>() }, Need.Admin, HttpStatusCode.OK),
        new("GET alert deliveries", ScopeKind.Site, "GET", "/v1/sites/{site}/alerts/deliveries", null, Need.Admin, HttpStatusCode.OK),
        new("POST alert delivery retry (no such delivery: 404)", ScopeKind.Site, "POST", "/v1/sites/{site}/alerts/deliveries/" + NoOne + "/retry", null, Need.Admin,
            HttpStatusCode.NotFound, "delivery_not_found"),
        new("POST keys", ScopeKind.Site, "POST", "/v1/sites/{site}/keys", new { kind = "read", label = "matrix" }, Need.Admin, HttpStatusCode.Created),
        new("POST site invitation", ScopeKind.Site, "POST", "/v1/sites/{site}/invitations", new { email = "invitee@matrix.example", role = "viewer" }, Need.Admin, HttpStatusCode.Created),
        new("DELETE site person (not a member there: 404)", ScopeKind.Site, "DELETE", "/v1/sites/{site}/people/" + NoOne, null, Need.Admin, HttpStatusCode.NotFound, "person_not_found"),
        new("GET audit", ScopeKind.Organisation, "GET", "/v1/organisations/{organisation}/audit", null, Need.Admin, HttpStatusCode.OK),
        new("POST organisation invitation", ScopeKind.Organisation, "POST", "/v1/organisations/{organisation}/invitations", new { email = "invitee@matrix.example", role = "agent" }, Need.Admin, HttpStatusCode.Created),
        new("POST owner invitation", ScopeKind.Organisation, "POST", "/v1/organisations/{organisation}/invitations", new { email = "co-owner@matrix.example", role = "owner" }, Need.Owner, HttpStatusCode.Created),
        new("GET people", ScopeKind.Organisation, "GET", "/v1/organisations/{organisation}/people", null, Need.Admin, HttpStatusCode.OK),
        new("DELETE organisation person (not a member there: 404)", ScopeKind.Organisation, "DELETE", "/v1/organisations/{organisation}/people/" + NoOne, null, Need.Admin, HttpStatusCode.NotFound, "person_not_found"),
        new("DELETE invitation (no such invitation: 404)", ScopeKind.Organisation, "DELETE", "/v1/organisations/{organisation}/invitations/" + NoOne, null, Need.Admin, HttpStatusCode.NotFound, "invitation_not_found"),
        new("POST transfer (to its own partner: no change)", ScopeKind.Organisation, "POST", "/v1/organisations/{organisation}/transfer", "{\"toPartner\":\"{partner}\"}", Need.Owner, HttpStatusCode.OK),
        new("GET clients", ScopeKind.Partner, "GET", "/v1/partners/{partner}/clients", null, Need.PartnerStaff, HttpStatusCode.OK),
        new("POST clients", ScopeKind.Partner, "POST", "/v1/partners/{partner}/clients", new { name = "Matrix Client", ownerEmail = "matrix-owner@matrix.example" }, Need.PartnerAdmin, HttpStatusCode.Created),
        new("PUT staff (already assigned: no change)", ScopeKind.Partner, "PUT", "/v1/partners/{partner}/clients/{alpha-one}/staff/{staff}", null, Need.PartnerAdmin, HttpStatusCode.NoContent),
        new("POST owner invitation of a client (it has an owner: 409)", ScopeKind.Partner, "POST", "/v1/partners/{partner}/clients/{alpha-one}/owner-invitation", new { email = "owner2@matrix.example" }, Need.PartnerAdmin, HttpStatusCode.Conflict),
        new("POST partner invitation", ScopeKind.Partner, "POST", "/v1/partners/{partner}/invitations", new { email = "new-staff@matrix.example", role = "partner_staff" }, Need.PartnerAdmin, HttpStatusCode.Created),
    ];

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var endpoint in Endpoints)
        {
            foreach (var role in Roles)
            {
                foreach (var target in Targets)
                {
                    data.Add(endpoint.Name, role, target);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Every_endpoint_by_every_role_on_every_tenant_gets_the_documented_answer_and_no_other_tenants_data(string endpointName, string role, string target)
    {
        var endpoint = Endpoints.Single(e => e.Name == endpointName);
        var tenant = world.Tenants[target];
        using var browser = world.Host.NewBrowser();
        using var response = await browser.SendAsync(new HttpMethod(endpoint.Method), Url(endpoint, tenant), Body(endpoint, tenant), world.Tokens[role]);
        var body = await response.Content.ReadAsStringAsync(Http.Ct);

        var (status, reason) = Expected(endpoint, role, target);
        Assert.True(response.StatusCode == status, $"{endpointName} as {role} on {target}: expected {(int)status}, got {(int)response.StatusCode}: {body}");
        if (reason is not null)
        {
            Assert.Equal(reason, (await response.ProblemAsync(status)).Reason());
        }

        foreach (var marker in Foreign(role).SelectMany(t => t.Markers))
        {
            Assert.DoesNotContain(marker, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_credentials_reports_want_a_key_and_management_wants_a_sign_in_and_a_site_key_manages_nothing()
    {
        using var browser = world.Host.NewBrowser();
        foreach (var endpoint in Endpoints)
        {
            var tenant = world.Tenants["own"];
            using var anonymous = await browser.SendAsync(new HttpMethod(endpoint.Method), Url(endpoint, tenant), Body(endpoint, tenant));
            var siteData = endpoint.Url.Contains("/stats", StringComparison.Ordinal) || endpoint.Url.Contains("/orders", StringComparison.Ordinal)
                || endpoint.Url.Contains("/subjects/", StringComparison.Ordinal);
            Assert.Equal(siteData ? "missing_key" : "sign_in_required", (await anonymous.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());

            using var withKey = await browser.SendAsync(new HttpMethod(endpoint.Method), Url(endpoint, tenant), Body(endpoint, tenant), world.AlphaOneReadKey);
            if (endpoint.Need == Need.Viewer)
            {
                Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
            }
            else
            {
                var reason = siteData ? "server_key_required" : "key_cannot_manage";
                Assert.Equal(reason, (await withKey.ProblemAsync(HttpStatusCode.Forbidden)).Reason());
            }
        }
    }

    [Fact]
    public async Task Partner_staff_list_only_the_clients_they_are_assigned_to()
    {
        using var browser = world.Host.NewBrowser();
        var staff = await browser.JsonAsync(HttpMethod.Get, $"/v1/partners/{world.AlphaPartner}/clients", bearer: world.Tokens["partner staff, assigned"]);
        var admin = await browser.JsonAsync(HttpMethod.Get, $"/v1/partners/{world.AlphaPartner}/clients", bearer: world.Tokens["partner admin"]);
        var unassigned = await browser.JsonAsync(HttpMethod.Get, $"/v1/partners/{world.AlphaPartner}/clients", bearer: world.Tokens["partner staff, not assigned"]);

        Assert.Equal(["Alpha One Client"], staff.EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Contains("Alpha Two Client", admin.EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Empty(unassigned.EnumerateArray());
    }

    /// <summary>
    /// The documented answers: a tenant where the caller has no role at all, or that belongs to another partner, is the
    /// same 404 as a tenant that does not exist; a role there that is too weak is 403 <c>role_insufficient</c>.
    /// </summary>
    private static (HttpStatusCode, string?) Expected(Endpoint endpoint, string role, string target)
    {
        var notFound = endpoint.Scope switch
        {
            ScopeKind.Site => "site_not_found",
            ScopeKind.Organisation => "organisation_not_found",
            _ => "partner_not_found",
        };
        var have = endpoint.Scope == ScopeKind.Partner ? PartnerLevel(role, target) : TenantLevel(role, target);
        return have == Need.None ? (HttpStatusCode.NotFound, notFound)
            : Reaches(have, endpoint.Need) ? (endpoint.Success, endpoint.SuccessReason)
            : (HttpStatusCode.Forbidden, "role_insufficient");
    }

    private static Need TenantLevel(string role, string target) => (role, target) switch
    {
        ("partner admin", "own" or "other organisation") => Need.Admin,
        ("partner staff, assigned", "own") => Need.Admin,
        ("owner", "own") => Need.Owner,
        ("admin", "own") => Need.Admin,
        ("agent", "own") => Need.Agent,
        ("viewer", "own") => Need.Viewer,
        _ => Need.None,
    };

    private static Need PartnerLevel(string role, string target) => (role, target) switch
    {
        ("partner admin", "own" or "other organisation") => Need.PartnerAdmin,
        ("partner staff, assigned" or "partner staff, not assigned", "own" or "other organisation") => Need.PartnerStaff,
        _ => Need.None,
    };

    private static bool Reaches(Need have, Need need) => need switch
    {
        Need.PartnerStaff => have is Need.PartnerStaff or Need.PartnerAdmin,
        Need.PartnerAdmin => have == Need.PartnerAdmin,
        _ => have is not (Need.PartnerStaff or Need.PartnerAdmin) && have >= need,
    };

    /// <summary>The tenants whose data the role must never see in a body.</summary>
    private IEnumerable<Tenant> Foreign(string role) => role switch
    {
        "partner admin" => [world.Tenants["other partner"]],
        "partner staff, assigned" or "owner" or "admin" or "agent" or "viewer" => [world.Tenants["other organisation"], world.Tenants["other partner"]],
        _ => world.Tenants.Values,
    };

    private string Url(Endpoint endpoint, Tenant tenant) => endpoint.Url
        .Replace("{site}", tenant.Site, StringComparison.Ordinal)
        .Replace("{organisation}", tenant.Organisation.ToString("D"), StringComparison.Ordinal)
        .Replace("{partner}", tenant.Partner.ToString("D"), StringComparison.Ordinal)
        .Replace("{alpha-one}", world.Tenants["own"].Organisation.ToString("D"), StringComparison.Ordinal)
        .Replace("{staff}", world.StaffAssigned.ToString("D"), StringComparison.Ordinal)
        + (endpoint.Need == Need.Viewer ? (endpoint.Url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "from=2026-05-01&to=2026-05-02" : "");

    private static object? Body(Endpoint endpoint, Tenant tenant) =>
        endpoint.Body is string text ? text.Replace("{partner}", tenant.Partner.ToString("D"), StringComparison.Ordinal) : endpoint.Body;
}

public enum Need
{
    None,
    Viewer,
    Agent,
    Admin,
    Owner,
    PartnerStaff,
    PartnerAdmin,
}

/// <summary>An endpoint of the matrix; <see cref="SuccessReason"/> is the reason an allowed caller gets when <see cref="Success"/> is a problem (a 404 or 409 after the tenant check).</summary>
public sealed record Endpoint(string Name, ScopeKind Scope, string Method, string Url, object? Body, Need Need, HttpStatusCode Success, string? SuccessReason = null);
