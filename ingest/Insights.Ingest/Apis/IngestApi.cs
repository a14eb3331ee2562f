using System.Diagnostics;
using System.Text.Json.Serialization;
using Insights.Contracts;
using Insights.Ingest.Admission;
using Insights.Ingest.Network;
using Insights.Ingest.Parsing;
using Insights.Ingest.Privacy;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Apis;

/// <summary>
/// <c>POST /v1/events</c> and Segment's <c>/v1/batch</c>, <c>/v1/track</c>, ... (<see cref="SegmentApi"/>): the edge where every refusal becomes its status code, once: 401 unknown key (or a secret key
/// in the URL), 403 a read key, 415 a body we cannot read, 413 too large, 400 nothing valid; then
/// <see cref="EventAdmission"/>: 429 over the site's public or server rate, 503 Kafka did not acknowledge, and 202 only
/// when Kafka holds every accepted event.
/// </summary>
public static class IngestApi
{
    public const string EventsPath = "/v1/events";

    private const string ForwardedForHeader = "X-Forwarded-For";

    /// <summary>Any origin may send: write keys are public by design (they sit in every page's tracker).</summary>
    public const string CorsPolicy = "event-senders";

    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder app)
    {
        Describe(app.MapPost(EventsPath, (HttpContext http, [AsParameters] IngestServices services) => PostEventsAsync(http, services, IngestRoute.Events))
            .WithName("PostEvents")
            .WithSummary("Send events")
            .WithDescription(
                "Accepts one event object, a JSON array of events, Segment's {\"batch\": [...]} or NDJSON (application/x-ndjson). " +
                "Valid events are accepted and invalid ones reported by index with a reason; 202 means Kafka acknowledged every accepted event. " +
                "Authenticate with the site's key in X-Insights-Key or as the Basic auth user name; a public write key may also ride in ?key= (for sendBeacon), " +
                "a server or read key there is refused (401 secret_key_in_url). A write key may send pageview, track, identify, screen, group and alias; orders, refunds, " +
                "cancellations and chat events need a server key (refused per event with needs_server_key). Event ids are the messageId in the key's " +
                "namespace: pub:<messageId> for a write key, srv:<messageId> for a server key. A gzip body (Content-Encoding: gzip) is inflated up to the same size limit."))
            .Produces<IngestResponse>(StatusCodes.Status202Accepted);

        // Segment's HTTP Tracking API: the same handler, parser and admission; only the type a single-call route implies
        // and the answer's shape differ.
        Describe(app.MapPost(SegmentApi.BatchPath, (HttpContext http, [AsParameters] IngestServices services) => PostEventsAsync(http, services, IngestRoute.SegmentBatch))
            .WithName("PostSegmentBatch")
            .WithSummary("Send events (Segment's /v1/batch)")
            .WithDescription(SegmentApi.Description("{\"batch\": [...], \"sentAt\": ...} (what Segment's SDKs send), or anything /v1/events takes.")))
            .Produces<SegmentResponse>(StatusCodes.Status200OK);
        foreach (var call in SegmentApi.Calls)
        {
            var route = IngestRoute.SegmentCall(call);
            Describe(app.MapPost("/v1/" + call, (HttpContext http, [AsParameters] IngestServices services) => PostEventsAsync(http, services, route))
                .WithName("PostSegment" + char.ToUpperInvariant(call[0]) + call[1..])
                .WithSummary($"Send a {call} call (Segment's /v1/{call})")
                .WithDescription(SegmentApi.Description(
                    $"One {call} event; its \"type\" may be left out (the route names it), another type is refused per event (invalid_field).")))
                .Produces<SegmentResponse>(StatusCodes.Status200OK);
        }

        return app;
    }

    private static RouteHandlerBuilder Describe(RouteHandlerBuilder route) => route
        .WithTags("Events")
        // Described, not declared with Accepts<T>: that would let routing answer a wrong Content-Type with a bare 415
        // before the handler could authenticate and explain.
        .AddOpenApiOperationTransformer(IngestApiDocs.DescribeEventsBodyAsync)
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .ProducesProblem(StatusCodes.Status429TooManyRequests)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
        .RequireCors(CorsPolicy);

    public static async Task<Results<Accepted<IngestResponse>, Ok<SegmentResponse>, ProblemHttpResult>> PostEventsAsync(
        HttpContext http, IngestServices services, IngestRoute route)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(services);
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var (result, reason) = await HandleAsync(http, services, route);
            outcome = reason;
            return result;
        }
        finally
        {
            services.Metrics.RequestCompleted(outcome, Stopwatch.GetElapsedTime(started));
        }
    }

    private static async Task<(Results<Accepted<IngestResponse>, Ok<SegmentResponse>, ProblemHttpResult>, string Outcome)> HandleAsync(
        HttpContext http, IngestServices services, IngestRoute route)
    {
        var request = http.Request;
        var limits = services.Options.Value;

        // A key in a header or the URL is checked before the body is read; Segment's browser SDK puts it in the body
        // ("writeKey"), so without one the body is read (bounded, as always) and the key looked for there.
        var key = WriteKeys.Read(request, out var keyInUrl);
        Caller caller = default;
        if (key is not null)
        {
            if (Authorize(http, services, key, keyInUrl, out caller) is { } refused)
            {
                return refused;
            }

            if (caller.OptOut is { } optOut)
            {
                return (Answer(route, new IngestResponse(0, [], optOut)), optOut);
            }
        }

        var format = BodyFormats.FromContentType(request.ContentType, route.Segment);
        var gzip = request.Headers.ContentEncoding is ["gzip"];
        if (format is null || (!gzip && request.Headers.ContentEncoding is { Count: > 0 } encoding && encoding is not ["identity"]))
        {
            return key is null ? MissingKey(http)
                : format is null ? Refuse(StatusCodes.Status415UnsupportedMediaType, RejectReasons.UnsupportedMediaType,
                    "Send application/json, application/x-ndjson or text/plain (JSON), in UTF-8.")
                : Refuse(StatusCodes.Status415UnsupportedMediaType, RejectReasons.UnsupportedMediaType,
                    "Of the compressed bodies (Content-Encoding) only gzip is accepted; send gzip or the JSON as it is.");
        }

        RequestBody? body;
        try
        {
            body = await RequestBody.ReadAsync(request.BodyReader, request.ContentLength, limits.MaxRequestBytes, http.RequestAborted);
            if (gzip && body is not null)
            {
                // The inflated size is bounded by the same limit, checked while inflating: a small bomb is refused after
                // at most MaxRequestBytes of output, never expanded in full.
                using var compressed = body;
                body = RequestBody.Gunzip(compressed, limits.MaxRequestBytes);
            }
        }
        catch (BadHttpRequestException error)
        {
            // The server refused the body itself (truncated, a bad chunk, over the server's own limit).
            return key is null ? MissingKey(http) : Refuse(error.StatusCode, error.StatusCode == StatusCodes.Status413PayloadTooLarge ? RejectReasons.BodyTooLarge : RejectReasons.UnreadableBody,
                error.Message);
        }
        catch (InvalidDataException)
        {
            return key is null ? MissingKey(http) : Refuse(StatusCodes.Status400BadRequest, RejectReasons.UnreadableBody,
                "The body says Content-Encoding: gzip but is not valid gzip data.");
        }

        if (body is null)
        {
            // Without a key, a body too large to hold one is first of all anonymous.
            return key is null ? MissingKey(http) : Refuse(StatusCodes.Status413PayloadTooLarge, RejectReasons.BodyTooLarge, gzip
                ? $"The body inflates to more than {limits.MaxRequestBytes} bytes; send fewer events per request."
                : $"The body is larger than {limits.MaxRequestBytes} bytes; send fewer events per request.");
        }

        // The body owns the parsed documents; admission releases both once the events are encoded.
        var owned = body;
        try
        {
            if (key is null)
            {
                if (format == BodyFormat.NdJson || WriteKeys.InBody(body.Memory.Span) is not { } bodyKey)
                {
                    return MissingKey(http);
                }

                if (Authorize(http, services, bodyKey, keyInUrl: false, out caller) is { } refused)
                {
                    return refused;
                }

                if (caller.OptOut is { } optOut)
                {
                    return (Answer(route, new IngestResponse(0, [], optOut)), optOut);
                }
            }

            var (site, kind) = (caller.Site, caller.Kind);
            var context = new IngestRequestContext(
                site.Id,
                kind,
                services.Time.GetUtcNow(),
                services.ClientIp.Resolve(http.Connection.RemoteIpAddress, request.Headers[ForwardedForHeader])?.ToString(),
                request.Headers.UserAgent is [{ Length: > 0 } userAgent] ? userAgent : null,
                route.ImpliedType);

            // Validate: the parser maps each event under the key's trust (a public key's order is refused by its index).
            var batch = services.Parser.Parse(body.Memory, format.Value, context);
            body.Adopt(batch);
            if (batch.Error is { } error)
            {
                return Refuse(StatusCodes.Status400BadRequest, error.Reason, error.Detail, error.Line is { } line
                    ? new Dictionary<string, object?> { ["line"] = line, ["bytePositionInLine"] = error.BytePositionInLine }
                    : null);
            }

            var rejected = batch.Rejections;
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

            owned = null;
            var admitted = await services.Admission.AdmitAsync(http,
                new AdmissionRequest(site, EventSource.OfKey(kind), batch.Events, context.ClientIp, context.UserAgent), body);
            return admitted.Refusal is { } refusal
                ? (refusal, admitted.Outcome)
                : (Answer(route, new IngestResponse(admitted.Accepted, rejected)), admitted.Outcome);
        }
        finally
        {
            owned?.Dispose();
        }
    }

    /// <summary>
    /// The key's site and kind, or the refusal: 401 unknown key or a secret in the URL, 403 a read key. A privacy signal
    /// the site honours is found here too (<see cref="Caller.OptOut"/>), before any event is read.
    /// </summary>
    private static (Results<Accepted<IngestResponse>, Ok<SegmentResponse>, ProblemHttpResult>, string)? Authorize(
        HttpContext http, IngestServices services, string key, bool keyInUrl, out Caller caller)
    {
        caller = default;
        var request = http.Request;
        if (services.Sites.FindByKey(key) is not var (site, kind))
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"insights\"";
            return Refuse(StatusCodes.Status401Unauthorized, RejectReasons.UnknownKey, "The key is not a key of any site.");
        }

        // A secret in a URL ends up in proxy and access logs and browser history: refused before anything is read, even
        // when a header carries the request's key, so the sender learns to move it (and to rotate it).
        var urlKeyKind = keyInUrl ? kind
            : WriteKeys.InUrl(request) is { } urlKey ? services.Sites.FindByKey(urlKey)?.Kind
            : null;
        if (urlKeyKind is KeyKind.Server or KeyKind.Read)
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"insights\"";
            return Refuse(StatusCodes.Status401Unauthorized, RejectReasons.SecretKeyInUrl,
                $"A secret key (server or read key) was sent in the URL (?{WriteKeys.QueryName}=), where proxies and logs keep it. " +
                $"Send it in the {WriteKeys.HeaderName} header (or as the Basic auth user name), and rotate it: treat it as exposed. " +
                "Only a public write key may ride in the URL.");
        }

        if (kind == KeyKind.Read)
        {
            return Refuse(StatusCodes.Status403Forbidden, RejectReasons.KeyCannotWrite,
                "A read key cannot send events; use the site's write key (or server key).");
        }

        // The visitor opted out and the site honours it: nothing is stored, and a success answer keeps the sender (often
        // an older tracker) from retrying.
        caller = new Caller(site, kind, PrivacySignals.OptOut(site, request.Headers));
        return null;
    }

    private static (Results<Accepted<IngestResponse>, Ok<SegmentResponse>, ProblemHttpResult>, string) MissingKey(HttpContext http)
    {
        http.Response.Headers.WWWAuthenticate = "Basic realm=\"insights\"";
        return Refuse(StatusCodes.Status401Unauthorized, RejectReasons.MissingKey,
            $"Send the site's key in {WriteKeys.HeaderName} or as the Basic auth user name (or, Segment-style, as \"writeKey\" in a JSON body); " +
            $"a public write key may also ride in ?{WriteKeys.QueryName}= (sendBeacon).");
    }

    /// <summary>
    /// The success answer, given only once Kafka holds every accepted event: 202 on <c>/v1/events</c>; 200
    /// <c>{"success": true, ...}</c> on Segment's routes, because Segment answers 200 and some of its SDKs (analytics-python's
    /// lineage) treat any other status, 202 included, as a failure and retry.
    /// </summary>
    private static Results<Accepted<IngestResponse>, Ok<SegmentResponse>, ProblemHttpResult> Answer(IngestRoute route, IngestResponse response) =>
        route.Segment
            ? TypedResults.Ok(new SegmentResponse(true, response.Accepted, response.Rejected, response.Reason))
            : TypedResults.Accepted((string?)null, response);

    private static (Results<Accepted<IngestResponse>, Ok<SegmentResponse>, ProblemHttpResult>, string) Refuse(
        int status, string reason, string detail, Dictionary<string, object?>? extensions = null) =>
        (EventAdmission.Problem(status, reason, detail, extensions), reason);
}

/// <summary>Who sent a request: the key's site and kind, and the privacy signal that drops the request, if any.</summary>
internal readonly record struct Caller(SiteOptions Site, KeyKind Kind, string? OptOut);

/// <summary>Which events route a request came by: Segment's answer 200, a single-call route implies the events' type.</summary>
public readonly record struct IngestRoute(bool Segment, string? ImpliedType)
{
    public static IngestRoute Events => new(false, null);

    public static IngestRoute SegmentBatch => new(true, null);

    public static IngestRoute SegmentCall(string call) =>
        new(true, EventMapper.TypeOfRoute(call) ?? throw new ArgumentOutOfRangeException(nameof(call), call, "Not a Segment call."));
}

/// <summary>What <c>POST /v1/events</c> needs: singletons from the container, bundled by <c>[AsParameters]</c>.</summary>
public sealed class IngestServices(
    SiteCatalog sites,
    EventBatchParser parser,
    ClientIpResolver clientIp,
    EventAdmission admission,
    IngestMetrics metrics,
    IOptions<IngestOptions> options,
    TimeProvider time)
{
    public SiteCatalog Sites { get; } = sites;

    public EventBatchParser Parser { get; } = parser;

    public ClientIpResolver ClientIp { get; } = clientIp;

    public EventAdmission Admission { get; } = admission;

    public IngestMetrics Metrics { get; } = metrics;

    public IOptions<IngestOptions> Options { get; } = options;

    public TimeProvider Time { get; } = time;
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
[JsonSerializable(typeof(SegmentResponse))]
[JsonSerializable(typeof(List<EventRejection>))]
internal sealed partial class IngestJsonContext : JsonSerializerContext;
