using System.Diagnostics;
using System.Globalization;
using Insights.Contracts;
using Insights.Ingest.Kafka;
using Insights.Ingest.Masking;
using Insights.Ingest.Parsing;
using Insights.Ingest.Privacy;
using Insights.Ingest.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Admission;

/// <summary>
/// The one way events enter the pipeline, for <c>POST /v1/events</c> and every webhook alike, as ordered steps:
/// validate (the endpoint's reader: the event parser or a platform mapper, both under <see cref="Trust"/>'s rules) →
/// trust (every id in its source's namespace, a public key's events of public types only) → privacy → rate limit (the
/// site's bucket for this source) → back-pressure (<see cref="BacklogGate"/>: the processors' backlog) → encode → deliver to Kafka → answer. Only the 202 body is the endpoint's own.
/// </summary>
public sealed class EventAdmission(
    SiteRateLimiter rateLimiter,
    KafkaEventSink kafka,
    BacklogGate backlog,
    IngestMetrics metrics,
    CookielessVisitorIds cookielessIds,
    IOptions<IngestOptions> options)
{
    /// <summary>
    /// Admits validated events. <paramref name="inputs"/> (the parsed documents the events' properties point into) is
    /// released once the events are encoded, before waiting for Kafka, so a slow broker does not hold request bodies.
    /// </summary>
    public async Task<AdmissionResult> AdmitAsync(HttpContext http, AdmissionRequest request, IDisposable? inputs = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        var (site, source, events) = (request.Site, request.Source, request.Events);
        Confluent.Kafka.Message<byte[], byte[]>[] messages;
        using (inputs)
        {
            CheckTrust(request);

            // Privacy: cookieless ids replace a browser's own; chat text reaches Kafka only as the site allows (none by
            // default), card numbers always masked.
            if (source.Level == TrustLevel.Public && site.Cookieless)
            {
                cookielessIds.Apply(events, site.Id, request.ClientIp, request.UserAgent);
            }

            PersonalDataPolicy.Apply(site, events);

            if (!rateLimiter.TryAcquire(site, source.Level, events.Count, out var retryAfter))
            {
                metrics.Rejected(RejectReasons.RateLimited, events.Count);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                http.Response.Headers.RetryAfter = seconds;
                return Refuse(StatusCodes.Status429TooManyRequests, RejectReasons.RateLimited,
                    $"Site '{site.Id}' may send {SiteRateLimiter.RateOf(site, source.Level)} events per second from {Describe(source.Level)}; " +
                    $"retry after {seconds} s. Public, server-key and webhook traffic are limited separately.");
            }

            if (backlog.Refuses(source.Level, out var wait, out var behind))
            {
                metrics.Rejected(RejectReasons.Backlog, events.Count);
                http.Response.Headers.RetryAfter = ((int)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                return Refuse(StatusCodes.Status503ServiceUnavailable, RejectReasons.Backlog, behind);
            }

            // Encoded while the parsed documents (which the events' properties point into) are still alive.
            messages = EventMessageEncoder.EncodeAll(events);
        }

        var producing = Stopwatch.GetTimestamp();
        var delivery = await kafka.DeliverAsync(messages, http.RequestAborted);
        if (!delivery.IsDelivered)
        {
            metrics.Rejected(RejectReasons.KafkaUnavailable, messages.Length);
            http.Response.Headers.RetryAfter = options.Value.UnavailableRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Refuse(StatusCodes.Status503ServiceUnavailable, RejectReasons.KafkaUnavailable,
                $"Kafka did not acknowledge the events ({delivery.Error}), so none is promised. " + (source.Level == TrustLevel.Webhook
                    ? "The platform's retry of this delivery is counted once."
                    : "Retry the request; events with a messageId are counted once however often they arrive."));
        }

        metrics.Delivered(Stopwatch.GetElapsedTime(producing));
        metrics.Accepted(messages.Length);
        return new AdmissionResult(messages.Length, null, AdmissionResult.AcceptedOutcome);
    }

    /// <summary>A problem answer with its machine-readable <c>reason</c>: the one shape every ingest refusal has.</summary>
    public static ProblemHttpResult Problem(int status, string reason, string detail, Dictionary<string, object?>? extensions = null)
    {
        extensions ??= new Dictionary<string, object?>(1);
        extensions["reason"] = reason;
        return TypedResults.Problem(detail: detail, statusCode: status, extensions: extensions);
    }

    /// <summary>
    /// The readers apply the rules per event (so a refusal names its index); this is the invariant they promise, checked
    /// where every source meets. A breach is a bug in a reader, never the sender's fault: it fails loudly.
    /// </summary>
    private static void CheckTrust(in AdmissionRequest request)
    {
        var source = request.Source;
        foreach (var e in request.Events)
        {
            if (!e.EventId.StartsWith(source.IdPrefix, StringComparison.Ordinal)
                || (source.Level == TrustLevel.Public && !Trust.PublicMaySend(e.Type)))
            {
                throw new InvalidOperationException(
                    $"A {source.Level} event of type {e.Type} with id '{e.EventId}' reached admission outside its source's rules ({source.IdPrefix}).");
            }
        }
    }

    private static string Describe(TrustLevel level) => level switch
    {
        TrustLevel.Public => "its public write keys",
        TrustLevel.Server => "its server keys",
        _ => "its webhooks",
    };

    private static AdmissionResult Refuse(int status, string reason, string detail) => new(0, Problem(status, reason, detail), reason);
}

/// <summary>Where events came from: their trust level and the id namespace every one of them must be in.</summary>
public readonly record struct EventSource(TrustLevel Level, string IdPrefix)
{
    public static EventSource OfKey(KeyKind kind)
    {
        var level = Trust.Of(kind);
        return new EventSource(level, Trust.IdPrefix(level));
    }

    /// <summary>A verified webhook of <paramref name="platform"/> (livechat, shopify, woocommerce): its ids are <c>platform:...</c>.</summary>
    public static EventSource OfWebhook(string platform) => new(TrustLevel.Webhook, platform + ":");
}

/// <summary>Validated events of one request, with what the privacy step needs to know about their sender.</summary>
public readonly record struct AdmissionRequest(SiteOptions Site, EventSource Source, List<PipelineEvent> Events, string? ClientIp = null, string? UserAgent = null);

/// <summary>How many events Kafka now holds, or the refusal to answer (429, 503 for Kafka or the backlog); <see cref="Outcome"/> is the metric tag.</summary>
public readonly record struct AdmissionResult(int Accepted, ProblemHttpResult? Refusal, string Outcome)
{
    public const string AcceptedOutcome = "accepted";
}
