using System.Text;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane.People;

/// <summary>A site a partner asks for: an id (derived from the name when omitted) and a name.</summary>
public sealed record NewClientSite(string? Id, string Name);

/// <summary>A site just created with its keys, each shown this once.</summary>
public sealed record ProvisionedSite(string Id, string Name, string WriteKey, string ServerKey, string ReadKey);

/// <summary>What a partner gets back: the client, its sites and keys, and the owner's invitation link — never a password.</summary>
public sealed record ProvisionedClient(Guid OrganisationId, string Name, IReadOnlyList<ProvisionedSite> Sites, string OwnerEmail, string InvitationLink, DateTimeOffset InvitationExpiresAt);

/// <summary>A partner's client as its list shows it.</summary>
public sealed record ClientSummary(Guid OrganisationId, string Name, IReadOnlyList<string> Sites, DateTimeOffset CreatedAt);

/// <summary>Why an operation was refused: the edge maps <see cref="Reason"/> and <see cref="Status"/> to HTTP once.</summary>
public sealed class PeopleOperationException(int status, string reason, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Reason { get; } = reason;
}

/// <summary>
/// Partner provisioning, staff assignment and transfer. Sites and keys are made through the store's
/// <see cref="SiteAdmin"/> (the one place that changes sites and keys and bumps the catalog version).
/// </summary>
public sealed class Provisioning(IDbContextFactory<ControlPlaneDb> dbs, SiteAdmin sites, Invitations invitations, TimeProvider time)
{
    public const int MaxSitesPerClient = 20;

    /// <summary>
    /// One call, one transaction: the organisation under the partner, its sites (default goals), a write, server and read
    /// key per site, and an owner invitation (mail in the outbox). Everything commits together with one catalog version
    /// bump, or, when any step is refused, nothing does (no organisation, site, key, invitation or mail is left behind).
    /// </summary>
    public Task<ProvisionedClient> CreateClientAsync(Guid partnerId, string name, string ownerEmail, IReadOnlyList<NewClientSite> newSites, Actor actor,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(newSites);
        return sites.InTransactionAsync(async (db, now) =>
        {
            // Checked under the catalog lock, so no concurrent request can take an id between this check and the save.
            foreach (var id in newSites.Select(s => s.Id).OfType<string>())
            {
                if (await SiteAdmin.SiteExistsAsync(db, id, cancellationToken))
                {
                    throw new PeopleOperationException(409, "site_exists", $"The site id '{id}' is taken.");
                }
            }

            var organisation = await SiteAdmin.AddOrganisationAsync(db, name, partnerId, actor, now, cancellationToken);
            var made = new List<ProvisionedSite>();
            foreach (var site in newSites)
            {
                var id = site.Id ?? await FreeIdAsync(db, Slug(site.Name), cancellationToken);
                if (made.Any(m => m.Id == id))
                {
                    throw new PeopleOperationException(409, "site_exists", $"The site id '{id}' is given twice.");
                }

                await SiteAdmin.AddSiteAsync(db, organisation.Id, id, site.Name, null, actor, now, cancellationToken);
                var write = await SiteAdmin.AddKeyAsync(db, id, SiteKeyKind.Write, "tracker snippet", actor, now, cancellationToken);
                var server = await SiteAdmin.AddKeyAsync(db, id, SiteKeyKind.Server, "server", actor, now, cancellationToken);
                var read = await SiteAdmin.AddKeyAsync(db, id, SiteKeyKind.Read, "reports", actor, now, cancellationToken);
                made.Add(new ProvisionedSite(id, site.Name, write.Key, server.Key, read.Key));
            }

            var issued = invitations.Add(db, ownerEmail, ScopeKind.Organisation, organisation.Id.ToString("D"), Role.Owner, organisation.Name, actor);
            return new ProvisionedClient(organisation.Id, organisation.Name, made, issued.Invitation.Email, issued.Link, issued.Invitation.ExpiresAt);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<ClientSummary>> ListClientsAsync(IReadOnlyCollection<Guid> organisationIds, CancellationToken cancellationToken)
    {
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var organisations = await db.Organisations.AsNoTracking().Where(o => organisationIds.Contains(o.Id)).ToListAsync(cancellationToken);
        var siteRows = await db.Sites.AsNoTracking().Where(s => organisationIds.Contains(s.OrganisationId))
            .Select(s => new { s.OrganisationId, s.Id }).ToListAsync(cancellationToken);
        return [.. organisations.OrderBy(o => o.Name, StringComparer.Ordinal).Select(o => new ClientSummary(
            o.Id, o.Name, [.. siteRows.Where(s => s.OrganisationId == o.Id).Select(s => s.Id).Order(StringComparer.Ordinal)], o.CreatedAt))];
    }

    /// <summary>Assigns (or unassigns) partner staff to one of the partner's clients. 404 when either is not the partner's.</summary>
    public async Task AssignStaffAsync(Guid partnerId, Guid organisationId, Guid personId, bool assign, Actor actor, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var partnerScope = partnerId.ToString("D");
        var organisationScope = organisationId.ToString("D");
        if (!await db.Organisations.AnyAsync(o => o.Id == organisationId && o.PartnerId == partnerId, cancellationToken))
        {
            throw new PeopleOperationException(404, "organisation_not_found", "No such client of this partner.");
        }

        if (!await db.Memberships.AnyAsync(m => m.PersonId == personId && m.ScopeKind == ScopeKind.Partner && m.ScopeId == partnerScope && m.Role == Role.PartnerStaff, cancellationToken))
        {
            throw new PeopleOperationException(404, "person_not_found", "No such staff member of this partner.");
        }

        var row = await db.Memberships.SingleOrDefaultAsync(m => m.PersonId == personId && m.ScopeKind == ScopeKind.Organisation && m.ScopeId == organisationScope, cancellationToken);
        if (assign && row is null)
        {
            await Memberships.GrantAsync(db, personId, ScopeKind.Organisation, organisationScope, Role.PartnerStaff, now, cancellationToken);
        }
        else if (!assign && row is { Role: Role.PartnerStaff })
        {
            db.Memberships.Remove(row);
        }
        else
        {
            return; // already so (or the person has their own role there, which an assignment does not touch)
        }

        db.AuditLog.Add(Audit.Entry(actor, assign ? "staff.assigned" : "staff.unassigned", ScopeKind.Organisation, organisationScope, new { person = personId, partner = partnerId }, now));
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// The owner moves their organisation to direct ownership (<paramref name="toPartner"/> null: the partner and its staff
    /// lose access at once; sites, keys, data and people stay) or grants a partner access (the partner's admins see it).
    /// </summary>
    public async Task<Organisation> TransferAsync(Guid organisationId, Guid? toPartner, Actor actor, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var organisation = await db.Organisations.SingleAsync(o => o.Id == organisationId, cancellationToken);
        if (toPartner is { } partner && !await db.Partners.AnyAsync(p => p.Id == partner, cancellationToken))
        {
            throw new PeopleOperationException(404, "partner_not_found", "No partner with this id.");
        }

        var from = organisation.PartnerId;
        if (from == toPartner)
        {
            return organisation;
        }

        organisation.PartnerId = toPartner;
        // Staff assignments belong to the old partner's relationship: they go with it.
        var scope = organisationId.ToString("D");
        db.Memberships.RemoveRange(await db.Memberships.Where(m => m.ScopeKind == ScopeKind.Organisation && m.ScopeId == scope && m.Role == Role.PartnerStaff).ToListAsync(cancellationToken));
        db.AuditLog.Add(Audit.Entry(actor, "organisation.transferred", ScopeKind.Organisation, scope, new { from, to = toPartner }, now));
        await db.SaveChangesAsync(cancellationToken);
        return organisation;
    }

    /// <summary>
    /// A site id from a name: ASCII letters and digits lower-cased, every other run as one '-', at most 40 characters
    /// ("Bistro Ü" → "bistro"; services run with invariant globalization, so accents are dropped rather than folded).
    /// </summary>
    public static string Slug(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var builder = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                builder.Append(char.ToLowerInvariant(c));
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }

            if (builder.Length >= 40)
            {
                break;
            }
        }

        var slug = builder.ToString().Trim('-');
        return slug.Length > 0 ? slug : "site";
    }

    /// <summary>The slug, or the slug with the first free "-2", "-3" ...: free in the store and among the sites this request adds.</summary>
    private static async Task<string> FreeIdAsync(ControlPlaneDb db, string slug, CancellationToken cancellationToken)
    {
        var taken = await db.Sites.Where(s => s.Id == slug || s.Id.StartsWith(slug + "-")).Select(s => s.Id).ToListAsync(cancellationToken);
        taken.AddRange(db.Sites.Local.Select(s => s.Id));
        var candidate = slug;
        for (var n = 2; taken.Contains(candidate); n++)
        {
            candidate = $"{slug}-{n}";
        }

        return candidate;
    }
}
