using Insights.Contracts;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Webhooks;

/// <summary>What a platform webhook amounts to, decided without I/O; the endpoint maps it to a status code once.</summary>
public sealed class WebhookOutcome
{
    private WebhookOutcome(WebhookVerdict verdict, string reason, string? detail, List<PipelineEvent> events)
    {
        Verdict = verdict;
        Reason = reason;
        Detail = detail;
        Events = events;
    }

    public WebhookVerdict Verdict { get; }

    /// <summary>A <see cref="WebhookReasons"/>, <see cref="RejectReasons"/> or <see cref="TypeRejectReasons"/> name.</summary>
    public string Reason { get; }

    public string? Detail { get; }

    /// <summary>The events to produce (only for <see cref="WebhookVerdict.Events"/>).</summary>
    public List<PipelineEvent> Events { get; }

    public static WebhookOutcome Produce(List<PipelineEvent> events) => new(WebhookVerdict.Events, WebhookReasons.Accepted, null, events);

    public static WebhookOutcome Ignore(string reason, string detail) => new(WebhookVerdict.Ignored, reason, detail, []);

    public static WebhookOutcome Unauthorized(string reason, string detail) => new(WebhookVerdict.Unauthorized, reason, detail, []);

    public static WebhookOutcome Invalid(string reason, string detail) => new(WebhookVerdict.Invalid, reason, detail, []);

    public static WebhookOutcome Forbidden(string reason, string detail) => new(WebhookVerdict.Forbidden, reason, detail, []);

    public override string ToString() => $"{Verdict} {Reason}: {Detail} ({Events.Count} events)";
}

public enum WebhookVerdict
{
    /// <summary>Authenticated and mapped: produce the events, 202 once Kafka has them.</summary>
    Events,

    /// <summary>Authenticated, nothing to ingest (a ping, a topic we do not map): 200, so the platform does not retry.</summary>
    Ignored,

    /// <summary>Secret or signature missing or wrong: 401.</summary>
    Unauthorized,

    /// <summary>Authenticated but not a payload we can map, or a topic its body contradicts: 400, nothing ingested.</summary>
    Invalid,

    /// <summary>Signed with the site's secret, but from another shop or store than the site's configured one: 403.</summary>
    Forbidden,
}

/// <summary>What a platform mapper needs besides the body: the site, the receive time and the limits.</summary>
public sealed record WebhookContext(SiteOptions Site, DateTimeOffset ReceivedAt, WebhookOptions Limits, IngestOptions Ingest);
