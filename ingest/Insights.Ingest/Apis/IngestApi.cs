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
/// <c>POST /v1/events</c>: the edge where every refusal becomes its status code, once: 401 unknown key (or a secret key
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
        app.MapPost(EventsPath, PostEventsAsync)
            .WithName("PostEvents")
            .WithTags("Events")
            .WithSummary("Send events")
            .WithDescription(
                "Accepts one event object, a JSON array of events, Segment's {\"batch\": [...]} or NDJSON (application/x-ndjson). " +
                "Valid events are accepted and invalid ones reported by index with a reason; 202 means Kafka acknowledged every accepted event. " +
                "Authenticate with the site's key in X-Insights-Key or as the Basic auth user name; a public write key may also ride in ?key= (for sendBeacon), " +
                "a server or read key there is refused (401 secret_key_in_url). A write key may send pageview, track and identify; orders, refunds, " +
                "cancellations and chat events need a server key (refused per event with needs_server_key). Event ids are the messageId in the key's " +
                "namespace: pub:<messageId> for a write key, srv:<messageId> for a server key.")
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

        var key = WriteKeys.Read(request, out var keyInUrl);
        if (key is null)
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"insights\"";
            return Refuse(StatusCodes.Status401Unauthorized, RejectReasons.MissingKey,
                $"Send the site's key in {WriteKeys.HeaderName} or as the Basic auth user name; a public write key may also ride in ?{WriteKeys.QueryName}= (sendBeacon).");
        }

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

        var context = new IngestRequestContext(
            site.Id,
            kind,
            services.Time.GetUtcNow(),
            services.ClientIp.Resolve(http.Connection.RemoteIpAddress, request.Headers[ForwardedForHeader])?.ToString(),
            request.Headers.UserAgent is [{ Length: > 0 } userAgent] ? userAgent : null);

        // Validate: the parser maps each event under the key's trust (a public key's order is refused by its index). The
        // body owns the parsed documents; admission releases both once the events are encoded.
        var owned = body;
        try
        {
            var batch = services.Parser.Parse(body.Memory, format, context);
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
                : (TypedResults.Accepted((string?)null, new IngestResponse(admitted.Accepted, rejected)), admitted.Outcome);
        }
        finally
        {
            owned?.Dispose();
        }
    }

    private static (Results<Accepted<IngestResponse>, ProblemHttpResult>, string) Refuse(
        int status, string reason, string detail, Dictionary<string, object?>? extensions = null) =>
        (EventAdmission.Problem(status, reason, detail, extensions), reason);
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
[JsonSerializable(typeof(List<EventRejection>))]
internal sealed partial class IngestJsonContext : JsonSerializerContext;
