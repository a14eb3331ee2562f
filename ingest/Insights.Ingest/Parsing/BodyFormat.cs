using Microsoft.Net.Http.Headers;

namespace Insights.Ingest.Parsing;

/// <summary>How the request body frames its events.</summary>
public enum BodyFormat
{
    /// <summary>One event object, an array of events, or Segment's <c>{"batch": [...], "sentAt": ...}</c>.</summary>
    Json,

    /// <summary>One event object per line; a line that is not JSON rejects only that event.</summary>
    NdJson,
}

internal static class BodyFormats
{
    /// <summary>
    /// The format a Content-Type announces, or null for one we do not read. No Content-Type and text/plain are JSON:
    /// <c>navigator.sendBeacon</c> with a string sends text/plain, the one type a browser may send cross-origin without a preflight.
    /// On Segment's routes (<paramref name="segmentRoute"/>) application/x-www-form-urlencoded is JSON too: RudderStack's
    /// Node SDK posts its gzip JSON with that label (axios's default for a byte body), and Segment-compatible servers read it.
    /// </summary>
    public static BodyFormat? FromContentType(string? contentType, bool segmentRoute = false)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return BodyFormat.Json;
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return null;
        }

        if (media.Charset.HasValue && !IsUtf8(media.Charset.Value))
        {
            return null;
        }

        var type = media.MediaType;
        if (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.Equals("text/plain", StringComparison.OrdinalIgnoreCase)
            || (segmentRoute && type.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)))
        {
            return BodyFormat.Json;
        }

        return type.Equals("application/x-ndjson", StringComparison.OrdinalIgnoreCase)
            || type.Equals("application/ndjson", StringComparison.OrdinalIgnoreCase)
            || type.Equals("application/jsonl", StringComparison.OrdinalIgnoreCase)
            ? BodyFormat.NdJson
            : null;
    }

    private static bool IsUtf8(string? charset) =>
        charset?.Trim('"') is { } name && (name.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || name.Equals("utf8", StringComparison.OrdinalIgnoreCase));
}
