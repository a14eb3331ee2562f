namespace Insights.ControlPlane.Model;

/// <summary>An agency that runs chat (and this service) for many client businesses.</summary>
public sealed class Partner
{
    public Guid Id { get; set; }

    public string Name { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// A client business: holds sites. Managed by a partner (<see cref="PartnerId"/>) or directly by its own people (null).
/// Transferring a client changes only this id: the sites, keys, data and people stay with the organisation.
/// </summary>
public sealed class Organisation
{
    public Guid Id { get; set; }

    public string Name { get; set; } = "";

    public Guid? PartnerId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// One tracked website. <see cref="Id"/> is the id events and reports use (<c>demo</c>); its settings are one JSON
/// document (<see cref="SettingsJson"/>), so a new setting needs no schema migration.
/// </summary>
public sealed class Site
{
    public string Id { get; set; } = "";

    public Guid OrganisationId { get; set; }

    public string Name { get; set; } = "";

    /// <summary>The site's settings: <see cref="Insights.Contracts.SiteOptions"/> without id, name and keys, as JSON.</summary>
    public string SettingsJson { get; set; } = "{}";

    /// <summary>True for a site that configuration seeds (the demo): its settings follow the configuration at each start.</summary>
    public bool Seeded { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>What a key grants; the names match <see cref="Insights.Contracts.KeyKind"/>.</summary>
public enum SiteKeyKind
{
    Write = 0,
    Server = 1,
    Read = 2,
}

/// <summary>
/// A site's key, stored as the SHA-256 of the key (<see cref="Insights.Contracts.SiteCatalog.HashKey"/>): the key itself
/// is shown once, when it is created. A revoked key stays (for the audit trail) but no longer works.
/// </summary>
public sealed class SiteKey
{
    public Guid Id { get; set; }

    public string SiteId { get; set; } = "";

    public SiteKeyKind Kind { get; set; }

    /// <summary>Upper-case hex SHA-256 of the key; unique.</summary>
    public string Hash { get; set; } = "";

    /// <summary>The key's first characters and its last four (<c>ik_srv_Ab…9xQz</c>), so people can tell keys apart.</summary>
    public string Hint { get; set; } = "";

    public string Label { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When set, the key stops working at this time (a rotated key's grace period ends).</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>Whether the key is accepted at <paramref name="now"/>.</summary>
    public bool WorksAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}

/// <summary>
/// One row. Every change to sites or keys bumps <see cref="Version"/> in the same transaction; services poll this one
/// number (cheap) and reload sites and keys only when it moved, which bounds how long a revoked key keeps working.
/// </summary>
public sealed class CatalogState
{
    public int Id { get; set; } = 1;

    public long Version { get; set; }
}
