namespace Insights.ControlPlane.Model;

/// <summary>Who changed what, when: one row per change to partners, organisations, sites, keys, people or roles.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary><c>person</c>, <c>token</c>, <c>key</c>, <c>cli</c> or <c>system</c>.</summary>
    public string ActorKind { get; set; } = "";

    /// <summary>The person's id, the token's or key's hint, or the CLI user; never a secret.</summary>
    public string ActorId { get; set; } = "";

    /// <summary>Dotted verb: <c>site.created</c>, <c>key.revoked</c>, <c>person.invited</c>, <c>organisation.transferred</c>.</summary>
    public string Action { get; set; } = "";

    public ScopeKind ScopeKind { get; set; }

    public string ScopeId { get; set; } = "";

    /// <summary>What changed, as JSON; never a password, key or token.</summary>
    public string DetailJson { get; set; } = "{}";
}

/// <summary>
/// Mail to send (invitations, sign-in links). Written in the transaction that makes the mail true; a sender delivers it
/// over SMTP, and in development it stays here for the tests and the dashboard to read.
/// </summary>
public sealed class OutboxMail
{
    public long Id { get; set; }

    public string To { get; set; } = "";

    public string Subject { get; set; } = "";

    public string TextBody { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? SentAt { get; set; }

    public int Attempts { get; set; }

    public string? LastError { get; set; }
}

/// <summary>
/// One ASP.NET Core data-protection key (its XML), which encrypts sign-in cookies and antiforgery tokens. Kept in the
/// shared store so every query API instance reads and writes one key ring: a cookie issued by one instance opens on the
/// others and survives restarts, with no shared volume.
/// </summary>
public sealed class DataProtectionKeyRow
{
    public long Id { get; set; }

    /// <summary>The name data protection gives the key (<c>key-{guid}</c>).</summary>
    public string FriendlyName { get; set; } = "";

    public string Xml { get; set; } = "";
}
