namespace Insights.ControlPlane.Model;

/// <summary>
/// An alert that fired: one row per (site, rule, visit), which is also the claim. Every query-API instance evaluates the
/// same rules on the same events; the one whose insert of this row succeeds delivers it, the others find it taken.
/// </summary>
public sealed class FiredAlert
{
    /// <summary><c>al_</c> and a hash of (site, rule, session): the same on every instance, and the receiver's idempotency key.</summary>
    public string Id { get; set; } = "";

    public string SiteId { get; set; } = "";

    public string RuleId { get; set; } = "";

    public string SessionId { get; set; } = "";

    public string VisitorId { get; set; } = "";

    public DateTimeOffset FiredAt { get; set; }

    /// <summary>The alert as delivered to webhooks (bounded by <c>Alerts:MaxPayloadBytes</c>); Slack messages are made from it.</summary>
    public string PayloadJson { get; set; } = "{}";
}

public enum AlertDeliveryStatus
{
    /// <summary>Waiting for its next attempt (<see cref="AlertDelivery.NextAttemptAt"/>), or leased by a worker until then.</summary>
    Pending,

    /// <summary>The receiver answered 2xx.</summary>
    Delivered,

    /// <summary>Dead-lettered: out of attempts, or its destination is gone. A retry through the API re-queues it.</summary>
    Dead,
}

/// <summary>
/// One alert on its way to one destination: the outbox row a delivery worker leases (by moving <see cref="Version"/>),
/// attempts, and records. The destination's URL and secret are read from the site's settings at each attempt, so a
/// rotated secret or a corrected URL applies to deliveries still waiting, and no secret is copied here.
/// </summary>
public sealed class AlertDelivery
{
    public Guid Id { get; set; }

    public string AlertId { get; set; } = "";

    public string SiteId { get; set; } = "";

    public string RuleId { get; set; } = "";

    public string DestinationId { get; set; } = "";

    /// <summary><c>webhook</c> or <c>slack</c>, as when the alert fired.</summary>
    public string DestinationKind { get; set; } = "";

    public AlertDeliveryStatus Status { get; set; }

    public int Attempts { get; set; }

    /// <summary>When a worker may take it next: the back-off after a failure, or the end of a worker's lease.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>Moved by every lease: a worker owns the row only if its conditional update moved it.</summary>
    public int Version { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastAttemptAt { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    /// <summary>The receiver's last HTTP status, or null when there was no answer (refused, timed out, blocked).</summary>
    public int? LastStatusCode { get; set; }

    /// <summary>Why the last attempt failed, at most 500 characters (the start of the receiver's body, or the error).</summary>
    public string? LastError { get; set; }
}
