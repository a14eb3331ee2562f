using System.Globalization;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Microsoft.EntityFrameworkCore;

namespace Insights.QueryApi.Partners;

/// <summary>
/// The control plane's answer to "which client sites of this partner may this person see": a partner admin sees every
/// client organisation the partner manages, partner staff only the organisations they are assigned to (an
/// organisation-scoped membership), anyone else nothing. A client transferred to direct ownership drops out at once:
/// only <see cref="Organisation.PartnerId"/> links it.
/// </summary>
public sealed class PartnerDirectory(IDbContextFactory<ControlPlaneDb> databases)
{
    /// <summary>Every client site of the partner; null when no partner has this id.</summary>
    public async Task<PartnerScope?> ScopeAsync(Guid partner, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        if (!await db.Partners.AnyAsync(p => p.Id == partner, cancellationToken))
        {
            return null;
        }

        return new PartnerScope(partner, await SitesAsync(db, partner, null, cancellationToken));
    }

    /// <summary>The client sites the person may see; null when the person has no role at the partner (or it does not exist),
    /// which the caller answers as "not found" so partner ids do not leak.</summary>
    public async Task<PartnerScope?> ScopeForPersonAsync(Guid person, Guid partner, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var partnerScope = partner.ToString("D", CultureInfo.InvariantCulture);
        var roles = await db.Memberships
            .Where(m => m.PersonId == person && m.ScopeKind == ScopeKind.Partner && m.ScopeId == partnerScope)
            .Select(m => m.Role)
            .ToListAsync(cancellationToken);
        if (roles.Contains(Role.PartnerAdmin))
        {
            return new PartnerScope(partner, await SitesAsync(db, partner, null, cancellationToken));
        }

        if (roles.Contains(Role.PartnerStaff))
        {
            var assigned = await db.Memberships
                .Where(m => m.PersonId == person && m.ScopeKind == ScopeKind.Organisation)
                .Select(m => m.ScopeId)
                .ToListAsync(cancellationToken);
            return new PartnerScope(partner, await SitesAsync(db, partner, assigned, cancellationToken));
        }

        return null;
    }

    private static async Task<IReadOnlyList<ClientSite>> SitesAsync(ControlPlaneDb db, Guid partner, List<string>? organisations,
        CancellationToken cancellationToken)
    {
        var rows = await (
                from organisation in db.Organisations
                join site in db.Sites on organisation.Id equals site.OrganisationId
                where organisation.PartnerId == partner
                select new { site.Id, site.Name, Organisation = organisation.Id, OrganisationName = organisation.Name })
            .ToListAsync(cancellationToken);
        return [.. rows
            .Where(r => organisations is null || organisations.Contains(r.Organisation.ToString("D", CultureInfo.InvariantCulture)))
            .OrderBy(r => r.Id, StringComparer.Ordinal)
            .Select(r => new ClientSite(r.Id, r.Name, r.Organisation, r.OrganisationName))];
    }
}
