using Insights.ControlPlane.Model;
using Microsoft.EntityFrameworkCore;

namespace Insights.ControlPlane;

/// <summary>
/// The control plane's one data-access layer. Provider-neutral: the SQLite and PostgreSQL subclasses only carry their
/// own migrations (each provider's DDL differs), so every query is written once, here and in the services above it.
/// </summary>
public abstract class ControlPlaneDb(DbContextOptions options) : DbContext(options)
{
    public DbSet<Partner> Partners => Set<Partner>();

    public DbSet<Organisation> Organisations => Set<Organisation>();

    public DbSet<Site> Sites => Set<Site>();

    public DbSet<SiteKey> SiteKeys => Set<SiteKey>();

    public DbSet<CatalogState> CatalogState => Set<CatalogState>();

    public DbSet<Person> People => Set<Person>();

    public DbSet<Membership> Memberships => Set<Membership>();

    public DbSet<Invitation> Invitations => Set<Invitation>();

    public DbSet<SignInLink> SignInLinks => Set<SignInLink>();

    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();

    public DbSet<OutboxMail> Outbox => Set<OutboxMail>();

    public DbSet<FiredAlert> FiredAlerts => Set<FiredAlert>();

    public DbSet<AlertDelivery> AlertDeliveries => Set<AlertDelivery>();

    public DbSet<DataProtectionKeyRow> DataProtectionKeys => Set<DataProtectionKeyRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);

        modelBuilder.Entity<Partner>(e =>
        {
            e.ToTable("partners");
            e.Property(p => p.Name).HasMaxLength(200);
        });

        modelBuilder.Entity<Organisation>(e =>
        {
            e.ToTable("organisations");
            e.Property(o => o.Name).HasMaxLength(200);
            e.HasIndex(o => o.PartnerId);
            e.HasOne<Partner>().WithMany().HasForeignKey(o => o.PartnerId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<Site>(e =>
        {
            e.ToTable("sites");
            e.Property(s => s.Id).HasMaxLength(63);
            e.Property(s => s.Name).HasMaxLength(200);
            e.HasIndex(s => s.OrganisationId);
            e.HasOne<Organisation>().WithMany().HasForeignKey(s => s.OrganisationId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<SiteKey>(e =>
        {
            e.ToTable("site_keys");
            e.Property(k => k.Hash).HasMaxLength(64);
            e.Property(k => k.Hint).HasMaxLength(40);
            e.Property(k => k.Label).HasMaxLength(200);
            e.HasIndex(k => k.Hash).IsUnique();
            e.HasIndex(k => k.SiteId);
            e.HasOne<Site>().WithMany().HasForeignKey(k => k.SiteId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<CatalogState>(e =>
        {
            e.ToTable("catalog_state");
            e.Property(c => c.Id).ValueGeneratedNever();
            e.HasData(new CatalogState { Id = 1, Version = 1 });
        });

        modelBuilder.Entity<Person>(e =>
        {
            e.ToTable("people");
            e.Property(p => p.Email).HasMaxLength(320);
            e.Property(p => p.NormalizedEmail).HasMaxLength(320);
            e.Property(p => p.DisplayName).HasMaxLength(200);
            e.Property(p => p.SecurityStamp).HasMaxLength(64);
            e.Property(p => p.ExternalSubject).HasMaxLength(255);
            e.HasIndex(p => p.NormalizedEmail).IsUnique();
            e.HasIndex(p => p.ExternalSubject).IsUnique();
        });

        modelBuilder.Entity<Membership>(e =>
        {
            e.ToTable("memberships");
            e.Property(m => m.ScopeId).HasMaxLength(63);
            e.HasIndex(m => new { m.PersonId, m.ScopeKind, m.ScopeId }).IsUnique();
            e.HasIndex(m => new { m.ScopeKind, m.ScopeId });
            e.HasOne<Person>().WithMany().HasForeignKey(m => m.PersonId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<Invitation>(e =>
        {
            e.ToTable("invitations");
            e.Property(i => i.TokenHash).HasMaxLength(64);
            e.Property(i => i.Email).HasMaxLength(320);
            e.Property(i => i.ScopeId).HasMaxLength(63);
            e.HasIndex(i => i.TokenHash).IsUnique();
        });

        modelBuilder.Entity<SignInLink>(e =>
        {
            e.ToTable("sign_in_links");
            e.Property(l => l.TokenHash).HasMaxLength(64);
            e.HasIndex(l => l.TokenHash).IsUnique();
            e.HasOne<Person>().WithMany().HasForeignKey(l => l.PersonId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ApiToken>(e =>
        {
            e.ToTable("api_tokens");
            e.Property(t => t.Name).HasMaxLength(200);
            e.Property(t => t.Hash).HasMaxLength(64);
            e.Property(t => t.Hint).HasMaxLength(40);
            e.HasIndex(t => t.Hash).IsUnique();
            e.HasOne<Person>().WithMany().HasForeignKey(t => t.PersonId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<AuditEntry>(e =>
        {
            e.ToTable("audit_log");
            e.Property(a => a.ActorKind).HasMaxLength(16);
            e.Property(a => a.ActorId).HasMaxLength(64);
            e.Property(a => a.Action).HasMaxLength(64);
            e.Property(a => a.ScopeId).HasMaxLength(63);
            e.HasIndex(a => new { a.ScopeKind, a.ScopeId, a.At });
        });

        modelBuilder.Entity<OutboxMail>(e =>
        {
            e.ToTable("outbox");
            e.Property(m => m.To).HasMaxLength(320);
            e.Property(m => m.Subject).HasMaxLength(200);
            e.HasIndex(m => m.SentAt);
        });

        modelBuilder.Entity<FiredAlert>(e =>
        {
            e.ToTable("alerts");
            e.Property(a => a.Id).HasMaxLength(40);
            e.Property(a => a.SiteId).HasMaxLength(63);
            e.Property(a => a.RuleId).HasMaxLength(63);
            e.Property(a => a.SessionId).HasMaxLength(128);
            e.Property(a => a.VisitorId).HasMaxLength(128);
            // The claim: one alert per rule and visit, whichever instance inserts it first.
            e.HasIndex(a => new { a.SiteId, a.RuleId, a.SessionId }).IsUnique();
            e.HasOne<Site>().WithMany().HasForeignKey(a => a.SiteId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<AlertDelivery>(e =>
        {
            e.ToTable("alert_deliveries");
            e.Property(d => d.AlertId).HasMaxLength(40);
            e.Property(d => d.SiteId).HasMaxLength(63);
            e.Property(d => d.RuleId).HasMaxLength(63);
            e.Property(d => d.DestinationId).HasMaxLength(63);
            e.Property(d => d.DestinationKind).HasMaxLength(16);
            e.Property(d => d.LastError).HasMaxLength(500);
            e.HasIndex(d => new { d.Status, d.NextAttemptAt });
            e.HasIndex(d => new { d.SiteId, d.CreatedAt });
            e.HasOne<FiredAlert>().WithMany().HasForeignKey(d => d.AlertId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DataProtectionKeyRow>(e =>
        {
            e.ToTable("data_protection_keys");
            e.Property(k => k.FriendlyName).HasMaxLength(100);
            e.Property(k => k.Xml).HasMaxLength(16_000);
        });
    }
}
