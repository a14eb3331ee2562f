using Microsoft.Extensions.Logging;

namespace Insights.Attribution;

/// <summary>The attribution consumer's log lines with stable event ids (5000s). Per-event outcomes are metrics.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(5001, LogLevel.Information, "Attributing {Topic} as group {GroupId}; writing to ClickHouse database {Database}")]
    public static partial void Consuming(ILogger logger, string topic, string groupId, string database);

    [LoggerMessage(5002, LogLevel.Information, "Attribution assigned partitions: {Partitions}")]
    public static partial void PartitionsAssigned(ILogger logger, string partitions);

    [LoggerMessage(5003, LogLevel.Information, "Attribution revoked partitions: {Partitions}; {Abandoned} unattributed messages left for the next owner")]
    public static partial void PartitionsRevoked(ILogger logger, string partitions, int abandoned);

    [LoggerMessage(5004, LogLevel.Warning, "Attribution lost partitions: {Partitions}; {Abandoned} unattributed messages left for the next owner")]
    public static partial void PartitionsLost(ILogger logger, string partitions, int abandoned);

    [LoggerMessage(5006, LogLevel.Warning, "Attribution Kafka: {Reason} ({Code})")]
    public static partial void KafkaError(ILogger logger, string reason, Confluent.Kafka.ErrorCode code);

    [LoggerMessage(5007, LogLevel.Warning, "Attribution consume failed: {Reason}")]
    public static partial void ConsumeFailed(ILogger logger, string reason);

    [LoggerMessage(5010, LogLevel.Warning, "Attributing a batch of {Count} messages failed (attempt {Attempt}); paused, retrying in {BackoffMs} ms")]
    public static partial void BatchFailed(ILogger logger, int count, int attempt, long backoffMs, Exception error);

    [LoggerMessage(5011, LogLevel.Information, "Batch attributed after {Attempts} attempts; consumption resumed")]
    public static partial void BatchRecovered(ILogger logger, int attempts);

    [LoggerMessage(5012, LogLevel.Warning, "A component was cut at {Nodes} nodes / {Rounds} rounds while loading; attribution of that person may be incomplete")]
    public static partial void ComponentTruncated(ILogger logger, int nodes, int rounds);

    [LoggerMessage(5020, LogLevel.Warning, "Attribution: schema migration failed (attempt {Attempt}); retrying in {BackoffMs} ms")]
    public static partial void MigrationFailed(ILogger logger, int attempt, long backoffMs, Exception error);

    [LoggerMessage(5030, LogLevel.Critical, "The attribution loop cannot continue; stopping the host")]
    public static partial void LoopFailed(ILogger logger, Exception error);

    [LoggerMessage(5031, LogLevel.Information, "Attribution stopped; stored offsets committed")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(5032, LogLevel.Warning, "Closing the attribution consumer failed")]
    public static partial void CloseFailed(ILogger logger, Exception error);
}
