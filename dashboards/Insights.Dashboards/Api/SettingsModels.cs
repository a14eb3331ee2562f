using System.Text.Json;

namespace Insights.Dashboards.Api;

// The management API's JSON as the Settings page reads it (/settings, /keys, /people, invitations). The app's own
// records: settings it does not show are left out (a PATCH sends only the fields a form changes, so nothing is lost).

/// <summary>The part of a site's settings the Settings page shows and changes.</summary>
public sealed record SiteSettings
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public string TimeZone { get; init; } = "UTC";
    public string ReportingCurrency { get; init; } = "";
    public int AttributionWindowDays { get; init; }
    public bool Cookieless { get; init; }
    public bool HonorDoNotTrack { get; init; }
    public bool HonorGlobalPrivacyControl { get; init; }

    /// <summary>The privacy mode: what is kept of a visitor's IP. The API sends the enum as its number (0 full, 1 truncated, 2 none) or null (the default).</summary>
    public JsonElement? IpStorage { get; init; }
    public IReadOnlyList<SiteGoal> Goals { get; init; } = [];
    public IReadOnlyList<string> TargetAccounts { get; init; } = [];

    /// <summary>The privacy mode by name: full, truncated or none (the processors' default, truncated, when unset).</summary>
    public string IpStorageMode => IpStorage switch
    {
        { ValueKind: JsonValueKind.Number } n when n.TryGetInt32(out var i) && i >= 0 && i < IpStorageModes.Count => IpStorageModes[i].Key,
        { ValueKind: JsonValueKind.String } s when IpStorageModes.Any(m => string.Equals(m.Key, s.GetString(), StringComparison.OrdinalIgnoreCase)) => s.GetString()!.ToLowerInvariant(),
        _ => "truncated",
    };

    /// <summary>The privacy modes in the order of the API's enum (its numbers), with what each keeps.</summary>
    public static readonly IReadOnlyList<(string Key, string Label)> IpStorageModes =
    [
        ("full", "Full address (most precise locations, most personal data)"),
        ("truncated", "Network part only: IPv4 /24, IPv6 /48 (the default)"),
        ("none", "Nothing: no IP is kept once location and company are resolved"),
    ];
}

public sealed record SiteGoal(string Id, string Name, string Kind, string? UrlPattern, string? EventName, decimal? Value);

public sealed record SiteKey(Guid Id, string Kind, string Hint, string Label, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt)
{
    public bool Active(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}

/// <summary>A key just issued or rotated: <see cref="Key"/> is shown this once.</summary>
public sealed record IssuedKey(string Key, SiteKey Info);

public sealed record OrganisationPeople
{
    public IReadOnlyList<Member> Members { get; init; } = [];
    public IReadOnlyList<PendingInvitation> Invitations { get; init; } = [];
}

public sealed record Member(Guid PersonId, string Email, string DisplayName, string Scope, string ScopeId, string Role, DateTimeOffset Since);

public sealed record PendingInvitation(Guid Id, string Email, string Scope, string ScopeId, string Role, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>An invitation just sent: its link is shown this once (it is also mailed).</summary>
public sealed record SentInvitation(Guid Id, string Email, string Scope, string ScopeId, string Role, DateTimeOffset ExpiresAt, string Link);
