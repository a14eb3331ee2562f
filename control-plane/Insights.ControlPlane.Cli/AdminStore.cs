using System.Text.Json;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.ControlPlane.Store;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Insights.ControlPlane.Cli;

/// <summary>
/// What the CLI does to the store beyond the store's and the accounts' operations (<see cref="SiteAdmin"/>,
/// <see cref="Invitations"/>): the schema check, and creating a partner, which no service operation covers yet.
/// </summary>
public sealed class AdminStore(IDbContextFactory<ControlPlaneDb> factory, TimeProvider time, ILogger<AdminStore> logger)
{
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
    /// A new partner and an invitation for its first partner admin (the accounts' own invitation: single use, expiring,
    /// only the token's hash stored, its mail in the outbox), in one transaction with their audit entries. The invitee
    /// sets their own sign-in when accepting.
    /// </summary>
    public async Task<(Partner Partner, IssuedInvitation Invitation)> CreatePartnerAsync(string name, string email, Invitations invitations, Actor actor,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invitations);
        ArgumentNullException.ThrowIfNull(actor);
        name = CheckName(name);
        email = Emails.Normalize(email) ?? throw new AdminException("--email: an e-mail address such as admin@agency.example");
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
        var invitation = invitations.Add(db, email, ScopeKind.Partner, partner.Id.ToString("D"), Role.PartnerAdmin, partner.Name, actor);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (partner, invitation);
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
}
