using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.Contracts;
using Microsoft.EntityFrameworkCore;

namespace Insights.ControlPlane.Store;

/// <summary>A key as it is created: <see cref="Key"/> is shown to the caller once and stored only as its hash.</summary>
public sealed record IssuedKey(SiteKey Record, string Key);

/// <summary>
/// The operations on organisations, sites, settings and keys, for every caller (the query API, the admin CLI). Each
/// runs in one transaction that takes the catalog lock, writes its audit entry and moves the catalog version, so the
/// services' directories pick the change up within their refresh interval.
/// </summary>
public sealed class SiteAdmin(IDbContextFactory<ControlPlaneDb> factory, TimeProvider time)
{
    /// <summary>The longest organisation name the store keeps.</summary>
    public const int MaxNameLength = 200;

    /// <summary>The goals a new site starts with: what chat-driven sales need from day one.</summary>
    public static List<SiteGoal> DefaultGoals() =>
    [
        new() { Id = "chat-started", Name = "Chat started", Kind = "chat_started" },
        new() { Id = "order-placed", Name = "Order placed", Kind = "order_placed" },
    ];

    public Task<Organisation> CreateOrganisationAsync(string name, Guid? partnerId, Actor actor, CancellationToken cancellationToken) =>
        InTransactionAsync((db, now) => AddOrganisationAsync(db, name, partnerId, actor, now, cancellationToken), cancellationToken);

    /// <summary>Creates a site; <paramref name="settings"/> null starts it with the defaults and <see cref="DefaultGoals"/>.</summary>
    public Task<Site> CreateSiteAsync(Guid organisationId, string siteId, string name, SiteOptions? settings, Actor actor, CancellationToken cancellationToken) =>
        InTransactionAsync((db, now) => AddSiteAsync(db, organisationId, siteId, name, settings, actor, now, cancellationToken), cancellationToken);

    /// <summary>
    /// <see cref="CreateOrganisationAsync"/> on a caller's context inside <see cref="InTransactionAsync{T}"/>: adds the
    /// organisation and its audit entry, does not save (so several steps commit together or not at all).
    /// </summary>
    internal static async Task<Organisation> AddOrganisationAsync(ControlPlaneDb db, string name, Guid? partnerId, Actor actor, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(actor);
        name = CheckName(name, "organisation");
        if (partnerId is { } partner && !await db.Partners.AnyAsync(p => p.Id == partner, cancellationToken))
        {
            throw new ControlPlaneException(ControlPlaneException.NotFound, $"no partner with id {partner}");
        }

        var organisation = new Organisation { Id = Guid.CreateVersion7(now), Name = name, PartnerId = partnerId, CreatedAt = now };
        db.Organisations.Add(organisation);
        db.AuditLog.Add(Audit.Entry(actor, "organisation.created", ScopeKind.Organisation, organisation.Id.ToString("D"), new { name, partner = partnerId }, now));
        return organisation;
    }

    /// <summary>
    /// <see cref="CreateSiteAsync"/> on a caller's context, without saving. The organisation and the id are checked
    /// against the store and against what the context holds unsaved, so a batch cannot use one id twice.
    /// </summary>
    internal static async Task<Site> AddSiteAsync(ControlPlaneDb db, Guid organisationId, string siteId, string name, SiteOptions? settings, Actor actor,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(actor);
        settings ??= new SiteOptions { Goals = DefaultGoals() };
        settings.Id = siteId;
        settings.Name = CheckName(name, "site");
        Check(settings);
        if (!db.Organisations.Local.Any(o => o.Id == organisationId) && !await db.Organisations.AnyAsync(o => o.Id == organisationId, cancellationToken))
        {
            throw new ControlPlaneException(ControlPlaneException.NotFound, $"no organisation with id {organisationId}");
        }

        if (await SiteExistsAsync(db, siteId, cancellationToken))
        {
            throw new ControlPlaneException(ControlPlaneException.Conflict, $"the site id '{siteId}' is taken; choose another");
        }

        var site = new Site
        {
            Id = siteId, OrganisationId = organisationId, Name = settings.Name, SettingsJson = SiteSettings.Serialize(settings),
            CreatedAt = now, UpdatedAt = now,
        };
        db.Sites.Add(site);
        db.AuditLog.Add(Audit.Entry(actor, "site.created", ScopeKind.Site, siteId, new { organisation = organisationId, name = site.Name }, now));
        return site;
    }

    /// <summary><see cref="IssueKeyAsync"/> on a caller's context, without saving; the site may be one the context holds unsaved.</summary>
    internal static async Task<IssuedKey> AddKeyAsync(ControlPlaneDb db, string siteId, SiteKeyKind kind, string label, Actor actor, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(actor);
        label = CheckLabel(label);
        if (!await SiteExistsAsync(db, siteId, cancellationToken))
        {
            throw new ControlPlaneException(ControlPlaneException.NotFound, $"no site with id '{siteId}'");
        }

        return Issue(db, siteId, kind, label, actor, "key.issued", null, now);
    }

    /// <summary>True when the id is in the store or added to <paramref name="db"/> and not yet saved.</summary>
    internal static async Task<bool> SiteExistsAsync(ControlPlaneDb db, string siteId, CancellationToken cancellationToken) =>
        db.Sites.Local.Any(s => s.Id == siteId) || await db.Sites.AnyAsync(s => s.Id == siteId, cancellationToken);

    /// <summary>The site's settings with its id and name (no keys), or null for an unknown site.</summary>
    public async Task<SiteOptions?> GetSettingsAsync(string siteId, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var site = await db.Sites.AsNoTracking().SingleOrDefaultAsync(s => s.Id == siteId, cancellationToken);
        return site is null ? null : SiteSettings.Deserialize(site.Id, site.Name, site.SettingsJson);
    }

    /// <summary>Replaces the site's settings and name (the id and key lists of <paramref name="settings"/> are ignored).</summary>
    public async Task UpdateSettingsAsync(string siteId, SiteOptions settings, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(actor);
        settings.Id = siteId;
        settings.Name = CheckName(settings.Name, "site");
        Check(settings);
        await InTransactionAsync(async (db, now) =>
        {
            var site = await db.Sites.SingleOrDefaultAsync(s => s.Id == siteId, cancellationToken)
                ?? throw new ControlPlaneException(ControlPlaneException.NotFound, $"no site with id '{siteId}'");
            site.Name = settings.Name;
            site.SettingsJson = SiteSettings.Serialize(settings);
            site.UpdatedAt = now;
            // The detail names what kind of change it was, never the values: settings hold webhook secrets.
            db.AuditLog.Add(Audit.Entry(actor, "site.settings_updated", ScopeKind.Site, siteId, new { name = site.Name }, now));
            return site;
        }, cancellationToken);
    }

    /// <summary>A new key for the site: <c>ik_pub_</c> (write), <c>ik_srv_</c> (server) or <c>ik_read_</c> and 32 random bytes.</summary>
    public Task<IssuedKey> IssueKeyAsync(string siteId, SiteKeyKind kind, string label, Actor actor, CancellationToken cancellationToken) =>
        InTransactionAsync((db, now) => AddKeyAsync(db, siteId, kind, label, actor, now, cancellationToken), cancellationToken);

    /// <summary>
    /// A new key of the same site, kind and label; the old one keeps working for <paramref name="grace"/> (null or zero:
    /// stops now), so clients can switch without a gap.
    /// </summary>
    public async Task<IssuedKey> RotateKeyAsync(Guid keyId, TimeSpan? grace, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (grace < TimeSpan.Zero || grace > TimeSpan.FromDays(30))
        {
            throw new ControlPlaneException(ControlPlaneException.Invalid, "grace: between 0 and 30 days");
        }

        return await InTransactionAsync(async (db, now) =>
        {
            var old = await WorkingKeyAsync(db, keyId, now, cancellationToken);
            var ends = now + (grace ?? TimeSpan.Zero);
            old.ExpiresAt = old.ExpiresAt is { } expires && expires < ends ? expires : ends;
            return Issue(db, old.SiteId, old.Kind, old.Label, actor, "key.rotated", new { replaces = old.Id, old_expires = old.ExpiresAt }, now);
        }, cancellationToken);
    }

    public async Task RevokeKeyAsync(Guid keyId, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await InTransactionAsync(async (db, now) =>
        {
            var key = await WorkingKeyAsync(db, keyId, now, cancellationToken);
            key.RevokedAt = now;
            db.AuditLog.Add(Audit.Entry(actor, "key.revoked", ScopeKind.Site, key.SiteId, new { key = key.Id, hint = key.Hint }, now));
            return key;
        }, cancellationToken);
    }

    private static IssuedKey Issue(ControlPlaneDb db, string siteId, SiteKeyKind kind, string label, Actor actor, string action, object? extra, DateTimeOffset now)
    {
        var key = NewKey(kind);
        var row = new SiteKey
        {
            Id = Guid.CreateVersion7(now), SiteId = siteId, Kind = kind, Hash = SiteCatalog.HashKey(key), Hint = KeyHint.Of(key),
            Label = label, CreatedAt = now,
        };
        db.SiteKeys.Add(row);
        db.AuditLog.Add(Audit.Entry(actor, action, ScopeKind.Site, siteId, new { key = row.Id, kind = kind.ToString(), hint = row.Hint, extra }, now));
        return new IssuedKey(row, key);
    }

    /// <summary>The key that the services accept now; revoking or rotating any other is refused (its state is final).</summary>
    private static async Task<SiteKey> WorkingKeyAsync(ControlPlaneDb db, Guid keyId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var key = await db.SiteKeys.SingleOrDefaultAsync(k => k.Id == keyId, cancellationToken)
            ?? throw new ControlPlaneException(ControlPlaneException.NotFound, $"no key with id {keyId}");
        return key.WorksAt(now) ? key : throw new ControlPlaneException(ControlPlaneException.Conflict, $"the key {key.Hint} is already revoked or expired");
    }

    internal static string NewKey(SiteKeyKind kind)
    {
        var prefix = kind switch
        {
            SiteKeyKind.Write => "ik_pub_",
            SiteKeyKind.Server => "ik_srv_",
            SiteKeyKind.Read => "ik_read_",
            _ => throw new ControlPlaneException(ControlPlaneException.Invalid, $"unknown key kind {kind}"),
        };
        return Secrets.New(prefix);
    }

    private static string CheckName(string name, string what)
    {
        name = name?.Trim() ?? "";
        return name.Length switch
        {
            0 => throw new ControlPlaneException(ControlPlaneException.Invalid, $"name: the {what} needs a name"),
            > MaxNameLength => throw new ControlPlaneException(ControlPlaneException.Invalid, $"name: at most {MaxNameLength} characters, got {name.Length}"),
            _ when name.Any(char.IsControl) => throw new ControlPlaneException(ControlPlaneException.Invalid, "name: no control characters"),
            _ => name,
        };
    }

    private static string CheckLabel(string label)
    {
        label = label?.Trim() ?? "";
        return label.Length > MaxNameLength || label.Any(char.IsControl)
            ? throw new ControlPlaneException(ControlPlaneException.Invalid, $"label: at most {MaxNameLength} characters, no control characters")
            : label;
    }

    /// <summary>The same rules as configured sites get at start-up, reported as <c>settings:TimeZone: ...</c>.</summary>
    private static void Check(SiteOptions settings)
    {
        var failures = SeedSitesValidator.Check(settings, "settings").ToList();
        if (failures.Count > 0)
        {
            throw new ControlPlaneException(ControlPlaneException.Invalid, string.Join("; ", failures));
        }
    }

    /// <summary>
    /// Runs <paramref name="change"/> in one transaction under the catalog lock, saves once and moves the catalog version
    /// once. A throw anywhere leaves the store as it was. Internal so that composite operations (provisioning a client)
    /// use the same lock, save and version bump as every single change.
    /// </summary>
    internal async Task<T> InTransactionAsync<T>(Func<ControlPlaneDb, DateTimeOffset, Task<T>> change, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await CatalogVersion.LockAsync(db, cancellationToken);
        var result = await change(db, time.GetUtcNow());
        await db.SaveChangesAsync(cancellationToken);
        await CatalogVersion.BumpAsync(db, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }
}
