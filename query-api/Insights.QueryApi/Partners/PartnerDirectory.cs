using Insights.ControlPlane;
using Insights.ControlPlane.People;
using Insights.QueryApi.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace Insights.QueryApi.Partners;

/// <summary>
/// The client sites of a partner that a person may see, by the accounts' rules (<see cref="AccessResolver"/>: a partner
/// admin sees every client organisation the partner manages, partner staff the ones they are assigned to, anyone else
/// nothing). A client transferred to direct ownership drops out at once: only its partner id links it.
/// </summary>
public sealed class PartnerDirectory(IDbContextFactory<ControlPlaneDb> databases, AccessResolver access)
{
    /// <summary>
    /// The client sites the granted person may see of the granted partner. The tenant behaviour has already decided that
    /// the person is the partner's admin or staff; this narrows staff to the clients they are assigned to.
    /// </summary>
    public async Task<PartnerScope> ScopeAsync(Grant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var partner = grant.PartnerId ?? throw new InvalidOperationException("A partner roll-up was granted without a partner.");
        var clients = await access.ClientsVisibleAsync(grant.Person, partner, cancellationToken);
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
