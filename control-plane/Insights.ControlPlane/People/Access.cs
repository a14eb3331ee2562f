using Insights.ControlPlane.Model;
using Microsoft.EntityFrameworkCore;

namespace Insights.ControlPlane.People;

/// <summary>
/// What a person may do at an organisation or one of its sites, from least to most. Partner admins, and partner staff
/// at the clients they are assigned to, act as <see cref="Admin"/>: they run the client's sites, but only the client's
/// owner may transfer the client away from (or to) a partner.
/// </summary>
public enum AccessLevel
{
    None = 0,
    Viewer = 1,
    Agent = 2,
    Admin = 3,
    Owner = 4,
}

/// <summary>What a person is at a partner.</summary>
public enum PartnerAccess
{
    None = 0,
    Staff = 1,
    Admin = 2,
}

/// <summary>The tenant an organisation or site belongs to, and the caller's level there.</summary>
public sealed record TenantAccess(Guid OrganisationId, Guid? PartnerId, AccessLevel Level);

/// <summary>
/// Resolves a person's roles against a tenant, reading their memberships from the store each time (a removed role
/// stops working at the next request). The rules, in one place:
/// <list type="bullet">
/// <item>a site membership gives its role at that site;</item>
/// <item>an organisation membership (owner, admin, agent, viewer) gives its role at the organisation and all its sites;</item>
/// <item>partner admin: <see cref="AccessLevel.Admin"/> at every organisation whose partner is theirs, now;</item>
/// <item>partner staff: <see cref="AccessLevel.Admin"/> only at the partner's organisations they are assigned to (an
/// organisation-scoped membership with role <see cref="Role.PartnerStaff"/>); the assignment is void once the
/// organisation no longer belongs to their partner (transfer).</item>
/// </list>
/// </summary>
public sealed class AccessResolver(IDbContextFactory<ControlPlaneDb> dbs)
{
    public async Task<TenantAccess?> ForSiteAsync(Guid personId, string siteId, CancellationToken cancellationToken)
    {
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var organisationId = await db.Sites.Where(s => s.Id == siteId).Select(s => (Guid?)s.OrganisationId).SingleOrDefaultAsync(cancellationToken);
        return organisationId is { } id ? await ResolveAsync(db, personId, id, siteId, cancellationToken) : null;
    }

    public async Task<TenantAccess?> ForOrganisationAsync(Guid personId, Guid organisationId, CancellationToken cancellationToken)
    {
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        return await ResolveAsync(db, personId, organisationId, siteId: null, cancellationToken);
    }

    public async Task<PartnerAccess> ForPartnerAsync(Guid personId, Guid partnerId, CancellationToken cancellationToken)
    {
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var scope = partnerId.ToString("D");
        var roles = await db.Memberships.Where(m => m.PersonId == personId && m.ScopeKind == ScopeKind.Partner && m.ScopeId == scope)
            .Select(m => m.Role).ToListAsync(cancellationToken);
        return roles.Contains(Role.PartnerAdmin) ? PartnerAccess.Admin : roles.Contains(Role.PartnerStaff) ? PartnerAccess.Staff : PartnerAccess.None;
    }

    /// <summary>The organisations a partner's person sees: all the partner's clients for an admin, the assigned ones for staff.</summary>
    public async Task<IReadOnlyList<Guid>> ClientsVisibleAsync(Guid personId, Guid partnerId, CancellationToken cancellationToken)
    {
        var access = await ForPartnerAsync(personId, partnerId, cancellationToken);
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var clients = db.Organisations.Where(o => o.PartnerId == partnerId).Select(o => o.Id);
        if (access == PartnerAccess.Admin)
        {
            return await clients.ToListAsync(cancellationToken);
        }

        if (access == PartnerAccess.None)
        {
            return [];
        }

        var assigned = await db.Memberships.Where(m => m.PersonId == personId && m.ScopeKind == ScopeKind.Organisation && m.Role == Role.PartnerStaff)
            .Select(m => m.ScopeId).ToListAsync(cancellationToken);
        return [.. (await clients.ToListAsync(cancellationToken)).Where(id => assigned.Contains(id.ToString("D")))];
    }

    /// <summary>The sites of the clients <see cref="ClientsVisibleAsync"/> returns: what a partner roll-up may read for this person.</summary>
    public async Task<IReadOnlyList<string>> ClientSitesVisibleAsync(Guid personId, Guid partnerId, CancellationToken cancellationToken)
    {
        var clients = await ClientsVisibleAsync(personId, partnerId, cancellationToken);
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        return await db.Sites.Where(s => clients.Contains(s.OrganisationId)).OrderBy(s => s.Id).Select(s => s.Id).ToListAsync(cancellationToken);
    }

    /// <summary>Every site the person can see, with their level there (for <c>GET /v1/me</c>).</summary>
    public async Task<IReadOnlyList<(Site Site, AccessLevel Level)>> SitesVisibleAsync(Guid personId, CancellationToken cancellationToken)
    {
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var memberships = await db.Memberships.AsNoTracking().Where(m => m.PersonId == personId).ToListAsync(cancellationToken);
        var partners = memberships.Where(m => m.ScopeKind == ScopeKind.Partner).Select(m => Guid.TryParse(m.ScopeId, out var id) ? id : Guid.Empty).ToList();
        var organisations = memberships.Where(m => m.ScopeKind == ScopeKind.Organisation).Select(m => Guid.TryParse(m.ScopeId, out var id) ? id : Guid.Empty).ToList();
        var siteIds = memberships.Where(m => m.ScopeKind == ScopeKind.Site).Select(m => m.ScopeId).ToList();

        var candidates = await db.Sites.AsNoTracking()
            .Join(db.Organisations, s => s.OrganisationId, o => o.Id, (s, o) => new { Site = s, o.PartnerId })
            .Where(x => siteIds.Contains(x.Site.Id) || organisations.Contains(x.Site.OrganisationId) || (x.PartnerId != null && partners.Contains(x.PartnerId.Value)))
            .ToListAsync(cancellationToken);
        return [.. candidates
            .Select(x => (x.Site, Level: Level(memberships, x.Site.OrganisationId, x.PartnerId, x.Site.Id)))
            .Where(x => x.Level > AccessLevel.None)
            .OrderBy(x => x.Site.Id, StringComparer.Ordinal)];
    }

    private static async Task<TenantAccess?> ResolveAsync(ControlPlaneDb db, Guid personId, Guid organisationId, string? siteId, CancellationToken cancellationToken)
    {
        var organisation = await db.Organisations.AsNoTracking().SingleOrDefaultAsync(o => o.Id == organisationId, cancellationToken);
        if (organisation is null)
        {
            return null;
        }

        var memberships = await db.Memberships.AsNoTracking().Where(m => m.PersonId == personId).ToListAsync(cancellationToken);
        return new TenantAccess(organisation.Id, organisation.PartnerId, Level(memberships, organisation.Id, organisation.PartnerId, siteId));
    }

    internal static AccessLevel Level(IReadOnlyList<Membership> memberships, Guid organisationId, Guid? partnerId, string? siteId)
    {
        var organisation = organisationId.ToString("D");
        var partner = partnerId?.ToString("D");
        var level = AccessLevel.None;
        var staffAtPartner = false;
        var assigned = false;
        foreach (var m in memberships)
        {
            switch (m.ScopeKind)
            {
                case ScopeKind.Site when siteId is not null && m.ScopeId == siteId:
                case ScopeKind.Organisation when m.ScopeId == organisation && m.Role != Role.PartnerStaff:
                    level = Max(level, Of(m.Role));
                    break;
                case ScopeKind.Organisation when m.ScopeId == organisation:
                    assigned = true;
                    break;
                case ScopeKind.Partner when partner is not null && m.ScopeId == partner && m.Role == Role.PartnerAdmin:
                    level = Max(level, AccessLevel.Admin);
                    break;
                case ScopeKind.Partner when partner is not null && m.ScopeId == partner && m.Role == Role.PartnerStaff:
                    staffAtPartner = true;
                    break;
                default:
                    break;
            }
        }

        return staffAtPartner && assigned ? Max(level, AccessLevel.Admin) : level;
    }

    private static AccessLevel Of(Role role) => role switch
    {
        Role.Owner => AccessLevel.Owner,
        Role.Admin => AccessLevel.Admin,
        Role.Agent => AccessLevel.Agent,
        Role.Viewer => AccessLevel.Viewer,
        _ => AccessLevel.None, // partner roles mean nothing at an organisation or site scope except staff assignment
    };

    private static AccessLevel Max(AccessLevel a, AccessLevel b) => a > b ? a : b;
}
