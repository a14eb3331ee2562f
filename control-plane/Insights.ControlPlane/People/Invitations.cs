using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane.People;

/// <summary>An invitation just made: the link is shown once to the inviter and mailed to the invitee.</summary>
public sealed record IssuedInvitation(Invitation Invitation, string Link);

public enum AcceptOutcome
{
    Accepted,

    /// <summary>Unknown, used or expired: one answer, so a guessed token learns nothing.</summary>
    NotFound,

    /// <summary>The address already belongs to a person, who must sign in first (accepting never sets an existing person's password).</summary>
    SignInFirst,

    /// <summary>Signed in as someone else than the invited address.</summary>
    OtherPerson,

    /// <summary>A new person's password does not pass <see cref="PasswordRules"/>.</summary>
    InvalidPassword,
}

public sealed record AcceptResult(AcceptOutcome Outcome, Person? Person = null, string? Error = null);

/// <summary>
/// Invitations to a role at a partner, organisation or site: single use, expiring, only the token's hash stored, the
/// mail in the outbox in the same save. Accepting sets the invitee's own sign-in (or links the signed-in person): the
/// inviter never sees or sets a password.
/// </summary>
public sealed class Invitations(IDbContextFactory<ControlPlaneDb> dbs, IPasswordHasher<Person> hasher, IOptions<PeopleOptions> options, TimeProvider time)
{
    /// <summary>Adds the invitation, its mail and its audit entry to <paramref name="db"/>; the caller saves (with whatever else it creates).</summary>
    public IssuedInvitation Add(ControlPlaneDb db, string email, ScopeKind scope, string scopeId, Role role, string scopeName, Actor actor)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(actor);
        var settings = options.Value;
        var now = time.GetUtcNow();
        var token = Secrets.New(Secrets.InvitationPrefix);
        var invitation = new Invitation
        {
            Id = Guid.CreateVersion7(now.UtcDateTime),
            TokenHash = Secrets.Hash(token),
            Email = email.Trim(),
            ScopeKind = scope,
            ScopeId = scopeId,
            Role = role,
            InvitedBy = actor.Kind == "person" && Guid.TryParse(actor.Id, out var by) ? by : null,
            CreatedAt = now,
            ExpiresAt = now + settings.InvitationLifetime,
        };
        db.Invitations.Add(invitation);
        var link = Links.Invitation(settings, token);
        Outbox.Add(db, invitation.Email, $"You are invited to {scopeName} on Insights",
            $"You are invited to {scopeName} on Insights as {RoleNames.Of(role)}.\n\nAccept with this link (it works once, until " +
            $"{invitation.ExpiresAt:yyyy-MM-dd HH:mm} UTC); you choose your own password or sign in with e-mail links:\n\n{link}\n", now);
        db.AuditLog.Add(Audit.Entry(actor, "person.invited", scope, scopeId, new { invitation = invitation.Id, role = RoleNames.Of(role) }, now));
        return new IssuedInvitation(invitation, link);
    }

    /// <summary>
    /// Accepts an invitation: as <paramref name="signedIn"/> (whose address must be the invited one), or as a new person
    /// with <paramref name="password"/> (null: e-mail links only). Marks it accepted atomically, so two clicks make one member.
    /// </summary>
    public async Task<AcceptResult> AcceptAsync(string? token, Guid? signedIn, string? password, string? displayName, CancellationToken cancellationToken)
    {
        if (!Secrets.LooksLike(token, Secrets.InvitationPrefix))
        {
            return new(AcceptOutcome.NotFound);
        }

        var hash = Secrets.Hash(token!);
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var invitation = await db.Invitations.SingleOrDefaultAsync(i => i.TokenHash == hash && i.AcceptedAt == null && i.ExpiresAt > now, cancellationToken);
        if (invitation is null)
        {
            return new(AcceptOutcome.NotFound);
        }

        var email = Emails.Normalize(invitation.Email) ?? "";
        var existing = await db.People.SingleOrDefaultAsync(p => p.NormalizedEmail == email, cancellationToken);
        Person person;
        if (signedIn is { } personId)
        {
            if (existing?.Id != personId)
            {
                return new(AcceptOutcome.OtherPerson);
            }

            person = existing;
        }
        else if (existing is not null)
        {
            return new(AcceptOutcome.SignInFirst);
        }
        else
        {
            if (password is not null && PasswordRules.Check(password, options.Value.MinPasswordLength) is { } problem)
            {
                return new(AcceptOutcome.InvalidPassword, Error: problem);
            }

            person = new Person
            {
                Id = Guid.CreateVersion7(now.UtcDateTime),
                Email = invitation.Email,
                NormalizedEmail = email,
                DisplayName = string.IsNullOrWhiteSpace(displayName) ? "" : displayName.Trim()[..Math.Min(displayName.Trim().Length, 200)],
                SecurityStamp = PersonSignIn.NewStamp(),
                CreatedAt = now,
            };
            person.PasswordHash = password is null ? null : hasher.HashPassword(person, password);
            db.People.Add(person);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var claimed = await db.Invitations.Where(i => i.Id == invitation.Id && i.AcceptedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.AcceptedAt, now).SetProperty(i => i.AcceptedBy, person.Id), cancellationToken);
        if (claimed != 1)
        {
            return new(AcceptOutcome.NotFound);
        }

        await Memberships.GrantAsync(db, person.Id, invitation.ScopeKind, invitation.ScopeId, invitation.Role, now, cancellationToken);
        db.AuditLog.Add(Audit.Entry(Actor.Person(person.Id), "invitation.accepted", invitation.ScopeKind, invitation.ScopeId,
            new { invitation = invitation.Id, role = RoleNames.Of(invitation.Role) }, now));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new(AcceptOutcome.Accepted, person);
    }
}

/// <summary>Membership rows: one per person and scope, holding the strongest role granted there.</summary>
public static class Memberships
{
    public static async Task GrantAsync(ControlPlaneDb db, Guid personId, ScopeKind scope, string scopeId, Role role, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var row = await db.Memberships.SingleOrDefaultAsync(m => m.PersonId == personId && m.ScopeKind == scope && m.ScopeId == scopeId, cancellationToken);
        if (row is null)
        {
            db.Memberships.Add(new Membership { Id = Guid.CreateVersion7(now.UtcDateTime), PersonId = personId, ScopeKind = scope, ScopeId = scopeId, Role = role, CreatedAt = now });
        }
        else if (role < row.Role)
        {
            row.Role = role; // lower is stronger (Role's order)
        }
    }
}

/// <summary>Roles as the API and mails spell them.</summary>
public static class RoleNames
{
    public static string Of(Role role) => role switch
    {
        Role.PartnerAdmin => "partner_admin",
        Role.PartnerStaff => "partner_staff",
        Role.Owner => "owner",
        Role.Admin => "admin",
        Role.Agent => "agent",
        _ => "viewer",
    };

    public static Role? Parse(string? name) => name switch
    {
        "partner_admin" => Role.PartnerAdmin,
        "partner_staff" => Role.PartnerStaff,
        "owner" => Role.Owner,
        "admin" => Role.Admin,
        "agent" => Role.Agent,
        "viewer" => Role.Viewer,
        _ => null,
    };
}
