using System.Text.Json.Serialization;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Apis;

/// <summary>
/// Segment's HTTP Tracking API, so an existing Segment-compatible SDK only changes its host: <c>/v1/batch</c> and the
/// single-call routes, mapped by <see cref="IngestApi"/> onto the one events handler (same parser, limits, trust rules and
/// admission as <c>/v1/events</c>).
/// </summary>
public static class SegmentApi
{
    public const string BatchPath = "/v1/batch";

    /// <summary>The single-call routes, <c>/v1/{call}</c>; each implies its events' type (<c>page</c> is a pageview).</summary>
    public static readonly IReadOnlyList<string> Calls = ["track", "page", "screen", "identify", "group", "alias"];

    internal static string Description(string body) =>
        "Segment-compatible: " + body + " Authenticate as Segment's SDKs do, with the write key as the Basic auth user name or as " +
        "\"writeKey\" in the JSON body (or X-Insights-Key). The same rules as /v1/events apply: a write key is public (pageview, track, " +
        "identify, screen, group and alias only), 32 KB per event, 500 KB per request (after gzip inflation). " +
        "200 {\"success\": true} means Kafka acknowledged every accepted event, as /v1/events' 202 does; events refused one by one " +
        "are listed in \"rejected\".";
}

/// <summary>
/// Segment's answer, <c>{"success": true}</c>, with what <c>/v1/events</c> also reports: how many events Kafka holds and
/// which were refused and why.
/// </summary>
public sealed record SegmentResponse(
    bool Success,
    int Accepted,
    IReadOnlyList<EventRejection> Rejected,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null);
