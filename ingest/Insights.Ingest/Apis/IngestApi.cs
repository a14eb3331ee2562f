using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using Insights.Contracts;
using Insights.Ingest.Kafka;
using Insights.Ingest.Masking;
using Insights.Ingest.Network;
using Insights.Ingest.Parsing;
using Insights.Ingest.Privacy;
using Insights.Ingest.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Apis;

/// <summary>
/// <c>POST /v1/events</c>: the edge where every refusal becomes its status code, once: 401 unknown key, 403 a read
/// key, 415 a body we cannot read, 413 too large, 400 nothing valid, 429 over the site's rate, 503 Kafka did not
/// acknowledge, and 202 only when Kafka holds every accepted event.
/// </summary>
public static class IngestApi
{
    public const string EventsPath = "/v1/events";

    private const string ForwardedForHeader = "X-Forwarded-For";

    /// <summary>Any origin may send: write keys are public by design (they sit in every page's tracker).</summary>
    public const string CorsPolicy = "event-senders";

    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(EventsPath, PostEventsAsync)
            .WithName("PostEvents")
            .WithTags("Events")
            .WithSummary("Send events")
            .WithDescription(
                "Accepts one event object, a JSON array of events, Segment's {\"batch\": [...]} or NDJSON (application/x-ndjson). " +
                "Valid events are accepted and invalid ones reported by index with a reason; 202 means Kafka acknowledged every accepted event. " +
                "Authenticate with the site's write key in X-Insights-Key, as the Basic auth user name, or as ?key= (for sendBeacon).")
            // Described, not declared with Accepts<T>: that would let routing answer a wrong Content-Type with a bare 415
            // before the handler could authenticate and explain.
            .AddOpenApiOperationTransformer(IngestApiDocs.DescribeEventsBodyAsync)
            .Produces<IngestResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireCors(CorsPolicy);
        return app;
    }

    public static async Task<Results<Accepted<IngestResponse>, ProblemHttpResult>> PostEventsAsync(
        HttpContext http, [AsParameters] IngestServices services)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(services);
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var (result, reason) = await HandleAsync(http, services);
            outcome = reason;
            return result;
        }
        finally
        {
            services.Metrics.RequestCompleted(outcome, Stopwatch.GetElapsedTime(started));
        }
    }

    private static async Task<(Results<Accepted<IngestResponse>, ProblemHttpResult>, string Outcome)> HandleAsync(
        HttpContext http, IngestServices services)
    {
        var request = http.Request;
        var limits = services.Options.Value;

        var key = WriteKeys.Read(request);
        if (key is null)
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"insights\"";
            return Refuse(StatusCodes.Status401Unauthorized, RejectReasons.MissingKey,
                $"Send the site's write key in {WriteKeys.HeaderName}, as the Basic auth user name, or as ?{WriteKeys.QueryName}=.");
        }

        if (services.Sites.FindByKey(key) is not var (site, kind))
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"insights\"";
            return Refuse(StatusCodes.Status401Unauthorized, RejectReasons.UnknownKey, "The key is not a key of any site.");
        }

        if (kind == KeyKind.Read)
        {
            return Refuse(StatusCodes.Status403Forbidden, RejectReasons.KeyCannotWrite,
                "A read key cannot send events; use the site's write key (or server key).");
        }

        if (PrivacySignals.OptOut(site, request.Headers) is { } optOut)
        {
            // The visitor opted out and the site honours it: nothing is read or stored, and a success answer keeps
            // the sender (often an older tracker) from retrying.
            return (TypedResults.Accepted((string?)null, new IngestResponse(0, [], optOut)), optOut);
        }

        if (BodyFormats.FromContentType(request.ContentType) is not { } format)
        {
            return Refuse(StatusCodes.Status415UnsupportedMediaType, RejectReasons.UnsupportedMediaType,
                "Send application/json, application/x-ndjson or text/plain (JSON), in UTF-8.");
        }

        if (request.Headers.ContentEncoding is { Count: > 0 } encoding && encoding is not ["identity"])
        {
            return Refuse(StatusCodes.Status415UnsupportedMediaType, RejectReasons.UnsupportedMediaType,
                "Compressed bodies (Content-Encoding) are not accepted; send the JSON as it is.");
        }

        RequestBody? body;
        try
        {
            body = await RequestBody.ReadAsync(request.BodyReader, request.ContentLength, limits.MaxRequestBytes, http.RequestAborted);
        }
        catch (BadHttpRequestException error)
        {
            // The server refused the body itself (truncated, a bad chunk, over the server's own limit).
            return Refuse(error.StatusCode, error.StatusCode == StatusCodes.Status413PayloadTooLarge ? RejectReasons.BodyTooLarge : RejectReasons.UnreadableBody,
                error.Message);
        }

        if (body is null)
        {
            return Refuse(StatusCodes.Status413PayloadTooLarge, RejectReasons.BodyTooLarge,
                $"The body is larger than {limits.MaxRequestBytes} bytes; send fewer events per request.");
        }

        Confluent.Kafka.Message<byte[], byte[]>[] messages;
        List<EventRejection> rejected;
        using (body)
        {
            var context = new IngestRequestContext(
                site.Id,
                kind,
                services.Time.GetUtcNow(),
                services.ClientIp.Resolve(http.Connection.RemoteIpAddress, request.Headers[ForwardedForHeader])?.ToString(),
                request.Headers.UserAgent is [{ Length: > 0 } userAgent] ? userAgent : null);

            using var batch = services.Parser.Parse(body.Memory, format, context);
            if (batch.Error is { } error)
            {
                return Refuse(StatusCodes.Status400BadRequest, error.Reason, error.Detail, error.Line is { } line
                    ? new Dictionary<string, object?> { ["line"] = line, ["bytePositionInLine"] = error.BytePositionInLine }
                    : null);
            }

            rejected = batch.Rejections;
            foreach (var rejection in rejected)
            {
                services.Metrics.Rejected(rejection.Reason);
            }

            if (batch.Events.Count == 0)
            {
                // Nothing to accept; the request's reason is its first event's. Only oversized events: the client must
                // split them, which 413 says best.
                var tooLarge = rejected.TrueForAll(r => r.Reason == RejectReasons.EventTooLarge);
                return Refuse(tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest,
                    tooLarge ? RejectReasons.EventTooLarge : rejected[0].Reason,
                    "No event in the request is valid; see \"rejected\".",
                    new Dictionary<string, object?> { ["accepted"] = 0, ["rejected"] = rejected });
            }

            if (site.Cookieless && kind == KeyKind.Write)
            {
                services.CookielessIds.Apply(batch.Events, site.Id, context.ClientIp, context.UserAgent);
            }

            // Chat text reaches Kafka only as the site allows (none by default), card numbers always masked.
            PersonalDataPolicy.Apply(site, batch.Events);

            var count = batch.Events.Count;
            if (!services.RateLimiter.TryAcquire(site, count, out var retryAfter))
            {
                services.Metrics.Rejected(RejectReasons.RateLimited, count);
                http.Response.Headers.RetryAfter = Seconds(retryAfter);
                return Refuse(StatusCodes.Status429TooManyRequests, RejectReasons.RateLimited,
                    $"Site '{site.Id}' may send {site.RateLimitPerSecond} events per second; retry after {Seconds(retryAfter)} s.");
            }

            // Encoded while the parsed documents (which the events' properties point into) are still alive.
            messages = EventMessageEncoder.EncodeAll(batch.Events);
        }

        var producing = Stopwatch.GetTimestamp();
        var delivery = await services.Kafka.DeliverAsync(messages, http.RequestAborted);
        if (!delivery.IsDelivered)
        {
            services.Metrics.Rejected(RejectReasons.KafkaUnavailable, messages.Length);
            http.Response.Headers.RetryAfter = limits.UnavailableRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Refuse(StatusCodes.Status503ServiceUnavailable, RejectReasons.KafkaUnavailable,
                $"Kafka did not acknowledge the events ({delivery.Error}), so none is promised. Retry the request; events with a messageId are counted once however often they arrive.");
        }

        services.Metrics.Delivered(Stopwatch.GetElapsedTime(producing));
        services.Metrics.Accepted(messages.Length);
        return (TypedResults.Accepted((string?)null, new IngestResponse(messages.Length, rejected)), "accepted");
    }

    private static (Results<Accepted<IngestResponse>, ProblemHttpResult>, string) Refuse(
        int status, string reason, string detail, Dictionary<string, object?>? extensions = null)
    {
        extensions ??= new Dictionary<string, object?>(1);
        extensions["reason"] = reason;
        return (TypedResults.Problem(detail: detail, statusCode: status, extensions: extensions), reason);
    }

    // Whole seconds, rounded up: "retry in 0 s" would invite a tight loop.
    private static string Seconds(TimeSpan wait) =>
        Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}

/// <summary>What <c>POST /v1/events</c> needs: singletons from the container, bundled by <c>[AsParameters]</c>.</summary>
public sealed class IngestServices(
    SiteCatalog sites,
    EventBatchParser parser,
    ClientIpResolver clientIp,
    SiteRateLimiter rateLimiter,
    KafkaEventSink kafka,
    IngestMetrics metrics,
    IOptions<IngestOptions> options,
    TimeProvider time,
    CookielessVisitorIds cookielessIds)
{
    public SiteCatalog Sites { get; } = sites;

    public EventBatchParser Parser { get; } = parser;

    public ClientIpResolver ClientIp { get; } = clientIp;

    public SiteRateLimiter RateLimiter { get; } = rateLimiter;

    public KafkaEventSink Kafka { get; } = kafka;

    public IngestMetrics Metrics { get; } = metrics;

    public IOptions<IngestOptions> Options { get; } = options;

    public TimeProvider Time { get; } = time;

    public CookielessVisitorIds CookielessIds { get; } = cookielessIds;
}

/// <summary>
/// The 202 body: how many events Kafka now holds, and which were refused and why; <c>reason</c> only when a privacy
/// signal dropped the whole request (<see cref="PrivacySignals"/>).
/// </summary>
public sealed record IngestResponse(
    int Accepted,
    IReadOnlyList<EventRejection> Rejected,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(List<EventRejection>))]
internal sealed partial class IngestJsonContext : JsonSerializerContext;
