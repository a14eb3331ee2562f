using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Microsoft.EntityFrameworkCore;

namespace Insights.ControlPlane.People;

/// <summary>A person's role at an organisation or one of its sites, as the people list shows it.</summary>
public sealed record MemberView(Guid PersonId, string Email, string DisplayName, string Scope, string ScopeId, string Role, DateTimeOffset Since);

/// <summary>An invitation not yet accepted, expired or revoked (never its link: that was shown once).</summary>
public sealed record PendingInvitationView(Guid Id, string Email, string Scope, string ScopeId, string Role, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>Everyone with a role at an organisation or its sites, and who is invited.</summary>
public sealed record OrganisationPeople(IReadOnlyList<MemberView> Members, IReadOnlyList<PendingInvitationView> Invitations);

/// <summary>
/// Who belongs to an organisation: listing its people, removing a membership, revoking a pending invitation. The caller
/// was already authorized for the organisation (admin and up); the rules about owners are here, checked in the same
/// transaction as the change, under the organisation's row lock, so two owners removing each other concurrently cannot
/// leave the organisation without one.
/// </summary>
public sealed class Members(IDbContextFactory<ControlPlaneDb> dbs, TimeProvider time)
{
    public async Task<OrganisationPeople> ListAsync(Guid organisationId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var scope = organisationId.ToString("D");
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var siteIds = await db.Sites.Where(s => s.OrganisationId == organisationId).Select(s => s.Id).ToListAsync(cancellationToken);
        var members = await db.Memberships.AsNoTracking()
            .Where(m => (m.ScopeKind == ScopeKind.Organisation && m.ScopeId == scope) || (m.ScopeKind == ScopeKind.Site && siteIds.Contains(m.ScopeId)))
            .Join(db.People, m => m.PersonId, p => p.Id, (m, p) => new { m, p.Email, p.DisplayName })
            .ToListAsync(cancellationToken);
        var invitations = await db.Invitations.AsNoTracking()
            .Where(i => i.AcceptedAt == null && i.ExpiresAt > now)
            .Where(i => (i.ScopeKind == ScopeKind.Organisation && i.ScopeId == scope) || (i.ScopeKind == ScopeKind.Site && siteIds.Contains(i.ScopeId)))
            .ToListAsync(cancellationToken);
        return new(
            [.. members.OrderBy(x => x.m.ScopeKind).ThenBy(x => x.m.ScopeId, StringComparer.Ordinal).ThenBy(x => x.m.Role).ThenBy(x => x.Email, StringComparer.Ordinal)
                .Select(x => new MemberView(x.m.PersonId, x.Email, x.DisplayName, Name(x.m.ScopeKind), x.m.ScopeId, RoleNames.Of(x.m.Role), x.m.CreatedAt))],
            [.. invitations.OrderBy(i => i.CreatedAt).ThenBy(i => i.Id)
                .Select(i => new PendingInvitationView(i.Id, i.Email, Name(i.ScopeKind), i.ScopeId, RoleNames.Of(i.Role), i.CreatedAt, i.ExpiresAt))]);
    }

    /// <summary>
    /// Removes <paramref name="personId"/>'s role at the organisation (<paramref name="siteId"/> null) or at one of its
    /// sites. An owner is removed only by an owner (<paramref name="caller"/>), and never the last one. Partner staff
    /// assignments are the partner's to change (their own endpoint), so they are not found here. The person's sessions
    /// and tokens lose the role at their next request (roles are read per request).
    /// </summary>
    public async Task RemoveAsync(Guid organisationId, string? siteId, Guid personId, Guid caller, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var now = time.GetUtcNow();
        var organisationScope = organisationId.ToString("D");
        var (scope, scopeId) = siteId is null ? (ScopeKind.Organisation, organisationScope) : (ScopeKind.Site, siteId);
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await LockAsync(db, organisationId, cancellationToken);
        var row = await db.Memberships.SingleOrDefaultAsync(m => m.PersonId == personId && m.ScopeKind == scope && m.ScopeId == scopeId && m.Role != Role.PartnerStaff,
            cancellationToken) ?? throw new PeopleOperationException(404, "person_not_found", $"This person has no role at this {Name(scope)}.");
        if (row.Role == Role.Owner)
        {
            var organisation = await db.Organisations.AsNoTracking().SingleAsync(o => o.Id == organisationId, cancellationToken);
            var callers = await db.Memberships.AsNoTracking().Where(m => m.PersonId == caller).ToListAsync(cancellationToken);
            if (AccessResolver.Level(callers, organisationId, organisation.PartnerId, null) < AccessLevel.Owner)
            {
                throw new PeopleOperationException(403, "role_insufficient", "Only an owner can remove an owner.");
            }

            var owners = await db.Memberships.CountAsync(m => m.ScopeKind == ScopeKind.Organisation && m.ScopeId == organisationScope && m.Role == Role.Owner, cancellationToken);
            if (owners <= 1)
            {
                throw new PeopleOperationException(409, "last_owner", "An organisation keeps at least one owner: make someone else owner first.");
            }
        }

        db.Memberships.Remove(row);
        db.AuditLog.Add(Audit.Entry(actor, "person.removed", scope, scopeId, new { person = personId, role = RoleNames.Of(row.Role) }, now));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Revokes a pending invitation at the organisation or one of its sites: its link stops working at once. An owner
    /// invitation needs an owner to revoke it, except while the organisation has no owner yet (the partner that
    /// provisioned it may take back a mistyped one).
    /// </summary>
    public async Task RevokeInvitationAsync(Guid organisationId, Guid invitationId, Guid caller, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var now = time.GetUtcNow();
        var organisationScope = organisationId.ToString("D");
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await LockAsync(db, organisationId, cancellationToken);
        var siteIds = await db.Sites.Where(s => s.OrganisationId == organisationId).Select(s => s.Id).ToListAsync(cancellationToken);
        var invitation = await db.Invitations.SingleOrDefaultAsync(i => i.Id == invitationId && i.AcceptedAt == null && i.ExpiresAt > now
                && ((i.ScopeKind == ScopeKind.Organisation && i.ScopeId == organisationScope) || (i.ScopeKind == ScopeKind.Site && siteIds.Contains(i.ScopeId))),
            cancellationToken) ?? throw new PeopleOperationException(404, "invitation_not_found", "No pending invitation with this id here.");
        if (invitation.Role == Role.Owner
            && await db.Memberships.AnyAsync(m => m.ScopeKind == ScopeKind.Organisation && m.ScopeId == organisationScope && m.Role == Role.Owner, cancellationToken)
            && !await db.Memberships.AnyAsync(m => m.PersonId == caller && m.ScopeKind == ScopeKind.Organisation && m.ScopeId == organisationScope && m.Role == Role.Owner, cancellationToken))
        {
            throw new PeopleOperationException(403, "role_insufficient", "Only an owner can revoke an owner invitation.");
        }

        // Revoked is expired now: the one check accepting makes (ExpiresAt > now) refuses it, and the row stays for the audit trail.
        invitation.ExpiresAt = now;
        db.AuditLog.Add(Audit.Entry(actor, "invitation.revoked", invitation.ScopeKind, invitation.ScopeId,
            new { invitation = invitation.Id, role = RoleNames.Of(invitation.Role) }, now));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The organisation's row lock (PostgreSQL) or the file's write lock (SQLite) for the open transaction: people changes of one organisation run one after the other.</summary>
    private static async Task LockAsync(ControlPlaneDb db, Guid organisationId, CancellationToken cancellationToken)
    {
        if (await db.Organisations.Where(o => o.Id == organisationId).ExecuteUpdateAsync(s => s.SetProperty(o => o.Name, o => o.Name), cancellationToken) != 1)
        {
            throw new PeopleOperationException(404, "organisation_not_found", "No such organisation.");
        }
    }

    private static string Name(ScopeKind kind) => kind.ToString().ToLowerInvariant();
}
