using Insights.ControlPlane;
using Insights.ControlPlane.People;
using Microsoft.EntityFrameworkCore;

namespace Insights.QueryApi.Partners;

/// <summary>
/// The client sites of a partner that a person may see, by the accounts' rules (<see cref="AccessResolver"/>: a partner
/// admin sees every client organisation the partner manages, partner staff the ones they are assigned to, anyone else
/// nothing). A client transferred to direct ownership drops out at once: only its partner id links it.
/// </summary>
public sealed class PartnerDirectory(IDbContextFactory<ControlPlaneDb> databases, AccessResolver access)
{
    /// <summary>The client sites the person may see; null when the person has no role at the partner (or it does not exist),
    /// which the caller answers as "not found" so partner ids do not leak.</summary>
    public async Task<PartnerScope?> ScopeForPersonAsync(Guid person, Guid partner, CancellationToken cancellationToken)
    {
        if (await access.ForPartnerAsync(person, partner, cancellationToken) == PartnerAccess.None)
        {
            return null;
        }

        var clients = await access.ClientsVisibleAsync(person, partner, cancellationToken);
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var rows = await (
                from organisation in db.Organisations
                join site in db.Sites on organisation.Id equals site.OrganisationId
                where organisation.PartnerId == partner && clients.Contains(organisation.Id)
                select new { site.Id, site.Name, Organisation = organisation.Id, OrganisationName = organisation.Name })
            .ToListAsync(cancellationToken);
        return new PartnerScope(partner, [.. rows
            .OrderBy(r => r.Id, StringComparer.Ordinal)
            .Select(r => new ClientSite(r.Id, r.Name, r.Organisation, r.OrganisationName))]);
    }
}
