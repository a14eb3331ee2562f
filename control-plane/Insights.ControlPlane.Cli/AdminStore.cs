using System.Buffers.Text;
using System.Net.Mail;
using System.Security.Cryptography;
using System.Text.Json;
using Insights.Contracts;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Insights.ControlPlane.Cli;

/// <summary>
/// What the CLI does to the store beyond the store's own operations (<see cref="SiteAdmin"/>): the schema check, and
/// creating a partner with its first admin's invitation, which no service operation covers yet.
/// </summary>
public sealed class AdminStore(IDbContextFactory<ControlPlaneDb> factory, TimeProvider time, ILogger<AdminStore> logger)
{
    /// <summary>How long an invitation link works; the same week the provisioning API gives a client's owner.</summary>
    public static readonly TimeSpan InvitationLifetime = TimeSpan.FromDays(7);

    public IDbContextFactory<ControlPlaneDb> Databases => factory;

    /// <summary>Where the store is, for people: the SQLite file or the PostgreSQL server and database, never a password.</summary>
    public async Task<string> DescribeAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        return db.Database.IsSqlite() ? $"SQLite {connection.DataSource}" : $"PostgreSQL {connection.DataSource}, database {connection.Database}";
    }

    /// <summary>Applies the pending migrations as a service does at start-up (same lock, safe beside running services).</summary>
    public Task MigrateAsync(CancellationToken cancellationToken) => ControlPlaneSchema.EnsureCurrentAsync(factory, apply: true, logger, cancellationToken);

    /// <summary>Refuses to work on a store without the current schema, naming how to get one.</summary>
    public async Task RequireCurrentAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Count();
        if (pending > 0)
        {
            throw new AdminException(
                $"the control-plane store ({await DescribeAsync(cancellationToken)}) is not initialised ({pending} migrations pending): " +
                "run insights-admin init --partner <name> --email <address>, or start a service with ControlPlane:ApplyMigrations=true",
                ExitCodes.StoreUnavailable);
        }
    }

    /// <summary>
    /// A new partner and an invitation for its first partner admin, in one transaction with their audit entries. The
    /// token is returned once (only its hash is stored); the invitee sets their own sign-in when accepting.
    /// </summary>
    public async Task<(Partner Partner, Invitation Invitation, string Token)> CreatePartnerAsync(string name, string email, Actor actor,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        name = CheckName(name);
        email = CheckEmail(email);
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var existing = (await db.Partners.AsNoTracking().ToListAsync(cancellationToken))
            .FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
        if (existing is not null)
        {
            throw new AdminException($"a partner named '{existing.Name}' already exists (id {existing.Id}); choose another name, or list them with insights-admin partners list");
        }

        var now = time.GetUtcNow();
        var partner = new Partner { Id = Guid.CreateVersion7(now), Name = name, CreatedAt = now };
        db.Partners.Add(partner);
        db.AuditLog.Add(AuditRow(actor, "partner.created", ScopeKind.Partner, partner.Id.ToString("D"), new { name }, now));
        var (invitation, token) = AddInvitation(db, email, ScopeKind.Partner, partner.Id.ToString("D"), Role.PartnerAdmin, actor, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (partner, invitation, token);
    }

    /// <summary>
    /// An invitation row and its audit entry (not saved): a random token, of which only the SHA-256 is stored, single use,
    /// expiring after <see cref="InvitationLifetime"/>. (The accounts' invitations are the same rows; fold into theirs.)
    /// </summary>
    internal static (Invitation Invitation, string Token) AddInvitation(ControlPlaneDb db, string email, ScopeKind scope, string scopeId, Role role,
        Actor actor, DateTimeOffset now)
    {
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var invitation = new Invitation
        {
            Id = Guid.CreateVersion7(now), TokenHash = SiteCatalog.HashKey(token), Email = email, ScopeKind = scope, ScopeId = scopeId, Role = role,
            CreatedAt = now, ExpiresAt = now + InvitationLifetime,
        };
        db.Invitations.Add(invitation);
        db.AuditLog.Add(AuditRow(actor, "person.invited", scope, scopeId, new { email, role = role.ToString() }, now));
        return (invitation, token);
    }

    private static AuditEntry AuditRow(Actor actor, string action, ScopeKind scope, string scopeId, object detail, DateTimeOffset at) => new()
    {
        At = at, ActorKind = actor.Kind, ActorId = actor.Id, Action = action, ScopeKind = scope, ScopeId = scopeId, DetailJson = JsonSerializer.Serialize(detail),
    };

    private static string CheckName(string? name)
    {
        name = name?.Trim() ?? "";
        return name.Length is 0 or > SiteAdmin.MaxNameLength || name.Any(char.IsControl)
            ? throw new AdminException($"--partner: a name of 1 to {SiteAdmin.MaxNameLength} characters without control characters")
            : name;
    }

    private static string CheckEmail(string? email)
    {
        email = email?.Trim() ?? "";
        return email.Length is > 0 and <= 320 && !email.Any(char.IsControl) && MailAddress.TryCreate(email, out var address)
            && address.Address == email && string.IsNullOrEmpty(address.DisplayName)
            ? email
            : throw new AdminException("--email: an e-mail address such as admin@agency.example");
    }
}
