namespace Insights.ControlPlane.Model;

/// <summary>
/// A person who signs in. The id is forever; the e-mail address (the login name) can change and the person keeps their
/// memberships, tokens and audit history.
/// </summary>
public sealed class Person
{
    public Guid Id { get; set; }

    public string Email { get; set; } = "";

    /// <summary>Trimmed, lower-case <see cref="Email"/>; unique.</summary>
    public string NormalizedEmail { get; set; } = "";

    public string DisplayName { get; set; } = "";

    /// <summary>ASP.NET Core Identity's password hash; null for a person who signs in only with e-mail links or OpenID Connect.</summary>
    public string? PasswordHash { get; set; }

    public int FailedSignIns { get; set; }

    public DateTimeOffset? LockedUntil { get; set; }

    /// <summary>Changes when the password or e-mail changes: sessions and links issued before stop working.</summary>
    public string SecurityStamp { get; set; } = "";

    /// <summary>The subject at an external OpenID Connect provider, when the person signs in there.</summary>
    public string? ExternalSubject { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Where a membership or invitation applies.</summary>
public enum ScopeKind
{
    Partner = 0,
    Organisation = 1,
    Site = 2,
}

/// <summary>
/// Roles, from most to least: partner admin (everything of the partner and its clients), partner staff (the clients
/// they are assigned to), owner (an organisation's everything incl. transfer), admin (settings, keys, people), agent
/// (reports and live, invite visitors), viewer (reports only).
/// </summary>
public enum Role
{
    PartnerAdmin = 0,
    PartnerStaff = 1,
    Owner = 2,
    Admin = 3,
    Agent = 4,
    Viewer = 5,
}

/// <summary>A person's role at a partner, an organisation or a site. Partner staff are assigned to clients by organisation-scoped rows.</summary>
public sealed class Membership
{
    public Guid Id { get; set; }

    public Guid PersonId { get; set; }

    public ScopeKind ScopeKind { get; set; }

    /// <summary>The partner's or organisation's id (as text) or the site's id.</summary>
    public string ScopeId { get; set; } = "";

    public Role Role { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// An invitation link: single use, expiring. Only the SHA-256 of its token is stored; the link is shown to the inviter
/// once and mailed to the invitee, who sets their own sign-in when accepting.
/// </summary>
public sealed class Invitation
{
    public Guid Id { get; set; }

    public string TokenHash { get; set; } = "";

    public string Email { get; set; } = "";

    public ScopeKind ScopeKind { get; set; }

    public string ScopeId { get; set; } = "";

    public Role Role { get; set; }

    public Guid? InvitedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? AcceptedAt { get; set; }

    public Guid? AcceptedBy { get; set; }
}

/// <summary>A passwordless sign-in link: single use, minutes long; only the token's SHA-256 is stored.</summary>
public sealed class SignInLink
{
    public Guid Id { get; set; }

    public string TokenHash { get; set; } = "";

    public Guid PersonId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? UsedAt { get; set; }
}

/// <summary>A personal API token for scripts: acts as its person, with the person's roles; only its SHA-256 is stored.</summary>
public sealed class ApiToken
{
    public Guid Id { get; set; }

    public Guid PersonId { get; set; }

    public string Name { get; set; } = "";

    public string Hash { get; set; } = "";

    public string Hint { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}
