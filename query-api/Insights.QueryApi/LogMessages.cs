using Microsoft.Extensions.Logging;

namespace Insights.QueryApi;

/// <summary>The query API's per-request log lines, with stable event ids.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Answered 503 ({Reason}) after {QueryName} failed: {Detail}")]
    public static partial void StorageUnavailable(this ILogger logger, string reason, string queryName, string detail, Exception exception);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug,
        Message = "Denied {QueryName} for site {Site}: {Status} {Reason}")]
    public static partial void AccessDenied(this ILogger logger, string queryName, string site, int status, string reason);

    /// <summary>Never the subject's id: the hash the audit record keeps.</summary>
    [LoggerMessage(EventId = 3003, Level = LogLevel.Information,
        Message = "Subject request {RequestId}: {Action} on site {Site}, subject {SubjectHash}, {Ids} ids, {Rows} rows")]
    public static partial void SubjectRequestDone(this ILogger logger, Guid requestId, string action, string site, string subjectHash, int ids, long rows);

    /// <summary>An export's rows are counted by the stream as it is written (its last line), not known when it starts.</summary>
    [LoggerMessage(EventId = 3004, Level = LogLevel.Information,
        Message = "Subject request {RequestId}: export on site {Site}, subject {SubjectHash}, {Ids} ids, streaming")]
    public static partial void SubjectExportStarted(this ILogger logger, Guid requestId, string site, string subjectHash, int ids);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information,
        Message = "Live presence rebuilt from ClickHouse: {Events} events, {Visitors} visitors present, in {Milliseconds:F0} ms")]
    public static partial void LiveRebuilt(this ILogger logger, int events, int visitors, double milliseconds);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning, Message = "Live presence could not be rebuilt from ClickHouse; following the topic only")]
    public static partial void LiveRebuildFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Live presence Kafka error {Code}: {Reason}")]
    public static partial void LiveKafkaError(this ILogger logger, string code, string reason);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Warning, Message = "Live presence could not look up visitors' visits; they show as unknown")]
    public static partial void LiveVisitsLookupFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3040, Level = LogLevel.Warning, Message = "Invitations: could not look up visitors' declined invitations; their rules go on without a decline pause")]
    public static partial void InvitationDeclinesLookupFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3041, Level = LogLevel.Warning, Message = "Invitations: an invitation event could not be recorded in Kafka: {Reason}")]
    public static partial void InvitationRecordFailed(this ILogger logger, string reason);

    [LoggerMessage(EventId = 3042, Level = LogLevel.Warning, Message = "Invitations: the record queue is full; an invitation event was dropped (the visitor still got it)")]
    public static partial void InvitationQueueFull(this ILogger logger);
    // 3050-3059: alerts (query-api/Insights.QueryApi/Live/Alerts).
    [LoggerMessage(EventId = 3050, Level = LogLevel.Warning, Message = "Alert {AlertId} could not be claimed in the control plane (attempt {Attempt}); trying again")]
    public static partial void AlertClaimFailed(this ILogger logger, Exception exception, string alertId, int attempt);

    [LoggerMessage(EventId = 3051, Level = LogLevel.Warning, Message = "Alert delivery round failed; deliveries stay in the outbox for the next round")]
    public static partial void AlertRoundFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3052, Level = LogLevel.Information,
        Message = "Alert delivery {DeliveryId} of site {Site} failed (attempt {Attempt}, dead-lettered: {Dead}): {Error}")]
    public static partial void AlertDeliveryFailed(this ILogger logger, Guid deliveryId, string site, int attempt, bool dead, string error);
}
