namespace Insights.Ingest.Parsing;

/// <summary>
/// Machine-readable reasons, stable on the wire: clients branch on them, and they are the <c>reason</c> tag of
/// <c>insights.ingest.events.rejected</c>. Add new ones; never rename one.
/// </summary>
public static class RejectReasons
{
    // One event of a batch; the others are still accepted.
    public const string NotAnObject = "not_an_object";
    public const string EventTooLarge = "event_too_large";
    public const string MissingType = "missing_type";
    public const string UnknownType = "unknown_type";
    public const string MissingAnonymousId = "missing_anonymous_id";
    public const string MissingEventName = "missing_event_name";
    public const string MissingUrl = "missing_url";
    public const string InvalidField = "invalid_field";
    public const string InvalidTimestamp = "invalid_timestamp";

    /// <summary>An order, refund, cancellation or chat event sent with a public write key.</summary>
    public const string NeedsServerKey = "needs_server_key";

    // The whole request (an NDJSON line that is not JSON is only that event's malformed_json).
    public const string MalformedJson = "malformed_json";
    public const string InvalidUtf8 = "invalid_utf8";
    public const string InvalidBatch = "invalid_batch";
    public const string EmptyBatch = "empty_batch";
    public const string TooManyEvents = "too_many_events";
    public const string BodyTooLarge = "body_too_large";
    public const string UnreadableBody = "unreadable_body";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string MissingKey = "missing_key";
    public const string UnknownKey = "unknown_key";
    public const string KeyCannotWrite = "key_cannot_write";

    /// <summary>A server or read key in <c>?key=</c>, where proxies and access logs keep it.</summary>
    public const string SecretKeyInUrl = "secret_key_in_url";
    public const string RateLimited = "rate_limited";
    public const string KafkaUnavailable = "kafka_unavailable";

    /// <summary>The processors are too far behind (Ingest:Backlog): refused before the broker could drop unread events.</summary>
    public const string Backlog = "backlog";
}

/// <summary>Why the event at <paramref name="Index"/> of the request was not accepted.</summary>
public readonly record struct EventRejection(int Index, string Reason, string Detail);
