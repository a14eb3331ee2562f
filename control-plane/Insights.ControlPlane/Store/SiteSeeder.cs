using System.Text.Json;
using Insights.ControlPlane.Model;
using Insights.Contracts;
using Microsoft.EntityFrameworkCore;

namespace Insights.ControlPlane.Store;

/// <summary>
/// Puts the configured sites (section <c>Sites</c>: the demo, the tests) into the store. Idempotent: a missing site is
/// created with a directly-owned organisation of its name; a seeded site's name and settings follow the configuration
/// at every start; a configured key is added once by hash, so a key revoked through the control plane stays revoked.
/// </summary>
internal static class SiteSeeder
{
    /// <summary>Returns whether anything changed (then the catalog version moved in the same transaction).</summary>
    public static async Task<bool> SeedAsync(ControlPlaneDb db, IReadOnlyList<SiteOptions> sites, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (sites.Count == 0)
        {
            return false;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await CatalogVersion.LockAsync(db, cancellationToken);
        var changes = new List<(string Action, string SiteId, object Detail)>();
        for (var i = 0; i < sites.Count; i++)
        {
            var configured = sites[i];
            var name = configured.Name.Length == 0 ? configured.Id : configured.Name;
            var settings = SiteSettings.Serialize(configured);
            var site = await db.Sites.FindAsync([configured.Id], cancellationToken);
            if (site is null)
            {
                var organisation = new Organisation { Id = Guid.CreateVersion7(now), Name = name, CreatedAt = now };
                db.Organisations.Add(organisation);
                db.Sites.Add(new Site
                {
                    Id = configured.Id, OrganisationId = organisation.Id, Name = name, SettingsJson = settings,
                    Seeded = true, CreatedAt = now, UpdatedAt = now,
                });
                changes.Add(("site.seeded", configured.Id, new { organisation = organisation.Id }));
            }
            else if (!site.Seeded)
            {
                throw new InvalidOperationException(
                    $"{SiteCatalogRegistration.Section}:{i}:Id: the site '{configured.Id}' exists in the control plane and was not created " +
                    "from configuration; remove it from the configuration or choose another id.");
            }
            else if (site.SettingsJson != settings || site.Name != name)
            {
                site.SettingsJson = settings;
                site.Name = name;
                site.UpdatedAt = now;
                changes.Add(("site.settings_seeded", configured.Id, new { }));
            }

            foreach (var (keys, kind) in new[] { (configured.WriteKeys, SiteKeyKind.Write), (configured.ServerKeys, SiteKeyKind.Server), (configured.ReadKeys, SiteKeyKind.Read) })
            {
                foreach (var key in keys)
                {
                    var hash = SiteCatalog.HashKey(key);
                    var owner = await db.SiteKeys.Where(k => k.Hash == hash).Select(k => k.SiteId).FirstOrDefaultAsync(cancellationToken);
                    if (owner is null && db.SiteKeys.Local.All(k => k.Hash != hash))
                    {
                        var row = new SiteKey
                        {
                            Id = Guid.CreateVersion7(now), SiteId = configured.Id, Kind = kind, Hash = hash,
                            Hint = KeyHint.Of(key), Label = "configuration", CreatedAt = now,
                        };
                        db.SiteKeys.Add(row);
                        changes.Add(("key.seeded", configured.Id, new { key = row.Id, kind = kind.ToString(), hint = row.Hint }));
                    }
                    else if (owner is not null && owner != configured.Id)
                    {
                        throw new InvalidOperationException(
                            $"{SiteCatalogRegistration.Section}:{i}: a {kind} key of site '{configured.Id}' is already a key of site '{owner}' in the control plane; every key must be unique.");
                    }
                }
            }
        }

        if (changes.Count == 0)
        {
            return false;
        }

        foreach (var (action, siteId, detail) in changes)
        {
            db.AuditLog.Add(Audit.Entry(Actor.System, action, ScopeKind.Site, siteId, detail, now));
        }

        await db.SaveChangesAsync(cancellationToken);
        await CatalogVersion.BumpAsync(db, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }
}

/// <summary>How keys are shown after they are created: enough to tell them apart, never enough to use one.</summary>
public static class KeyHint
{
    /// <summary><c>ik_srv_Ab…9xQz</c>: the kind prefix, two characters and the last four; a short (configured) key shows two and two.</summary>
    public static string Of(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < 16)
        {
            return key.Length < 8 ? "…" : string.Concat(key.AsSpan(0, 2), "…", key.AsSpan(key.Length - 2));
        }

        var prefix = key.StartsWith("ik_", StringComparison.Ordinal) ? Math.Clamp(key.IndexOf('_', 3) + 1, 0, 8) : 0;
        return string.Concat(key.AsSpan(0, prefix + 2), "…", key.AsSpan(key.Length - 4));
    }
}

/// <summary>Audit rows, written in the transaction of the change they describe.</summary>
internal static class Audit
{
    public static AuditEntry Entry(Actor actor, string action, ScopeKind scope, string scopeId, object detail, DateTimeOffset at) => new()
    {
        At = at, ActorKind = actor.Kind, ActorId = actor.Id, Action = action, ScopeKind = scope, ScopeId = scopeId,
        DetailJson = JsonSerializer.Serialize(detail),
    };
}
