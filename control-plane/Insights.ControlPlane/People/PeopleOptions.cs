using System.ComponentModel.DataAnnotations;

namespace Insights.ControlPlane.People;

/// <summary>Sign-in, links, invitations and tokens (section <c>People</c>).</summary>
public sealed class PeopleOptions
{
    public const string Section = "People";

    /// <summary>
    /// Wrong passwords in a row before the account is locked. Lower stops guessing sooner; it also lets a stranger
    /// lock a known address out for <see cref="LockoutDuration"/> with fewer tries.
    /// </summary>
    [Range(1, 100)]
    public int LockoutThreshold { get; set; } = 5;

    /// <summary>How long a locked account refuses every password, the right one included. Longer slows guessing; it also keeps the real person out longer.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long an e-mailed sign-in link works. Longer is kinder to slow mail; a link sitting in an inbox is a key to the account meanwhile.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan SignInLinkLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Unused sign-in links a person may have at once; more requests send no mail. Bounds how much mail a stranger can make us send to one address.</summary>
    [Range(1, 100)]
    public int MaxOpenSignInLinks { get; set; } = 3;

    /// <summary>How long an invitation link works. Longer suits owners who read mail weekly; an unaccepted invitation is a standing grant meanwhile.</summary>
    [Range(typeof(TimeSpan), "00:10:00", "90.00:00:00")]
    public TimeSpan InvitationLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Shortest password accepted. Longer resists guessing; past a point people write it down.</summary>
    [Range(8, 128)]
    public int MinPasswordLength { get; set; } = 10;

    /// <summary>
    /// The address people reach the query API at, as written into mailed links (<c>https://insights.example</c>). The
    /// default suits a development machine only.
    /// </summary>
    [Required]
    [Url]
    public string PublicBaseUrl { get; set; } = "http://127.0.0.1:8081";

    /// <summary>
    /// Sign-in attempts per minute from one client address, all accounts together (passwords, link requests, link uses,
    /// invitation acceptances): the per-account lockout stops guessing one password, this stops one address trying many
    /// accounts or mailing many links. Higher serves offices behind one address; lower slows a spray sooner. Behind a
    /// proxy, configure forwarded headers so the address is the client's.
    /// </summary>
    [Range(1, 1_000_000)]
    public int SignInAttemptsPerMinute { get; set; } = 30;

    /// <summary>How long a signed-in browser session lasts without use (it slides with use). Shorter limits a stolen cookie; longer signs people out less.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "90.00:00:00")]
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromDays(14);
}

/// <summary>Outgoing mail over SMTP (section <c>Mail</c>). Without a host, mail stays in the outbox table (development, tests).</summary>
public sealed class MailOptions
{
    public const string Section = "Mail";

    /// <summary>The SMTP server; empty keeps every mail in the outbox, unsent.</summary>
    public string? Host { get; set; }

    /// <summary>The SMTP port: 587 for submission with STARTTLS, 465 for TLS from the first byte, 25 between servers.</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    /// <summary><c>StartTls</c> (required upgrade; the default), <c>Tls</c> (port 465), or <c>None</c> (a relay on the same host only).</summary>
    public MailSecurity Security { get; set; } = MailSecurity.StartTls;

    /// <summary>The sender, as <c>Insights &lt;insights@example.com&gt;</c> or a bare address.</summary>
    [Required]
    public string From { get; set; } = "Insights <insights@localhost>";

    /// <summary>SMTP user name; empty sends without authentication.</summary>
    public string? UserName { get; set; }

    /// <summary>SMTP password (from a secret store or the environment, never a committed file).</summary>
    public string? Password { get; set; }

    /// <summary>How often the sender looks for new mail. Shorter delivers sooner; each look is one small query.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts per mail before the sender gives up on it (the error stays on the row). More rides out longer outages; a bad address is retried as often.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 8;
}

public enum MailSecurity
{
    StartTls,
    Tls,
    None,
}
