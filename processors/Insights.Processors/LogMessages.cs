using Microsoft.Extensions.Logging;

namespace Insights.Processors;

/// <summary>The processors' log lines with stable event ids. Per-event outcomes are metrics, not lines here.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(1001, LogLevel.Information, "Consuming {Topic} as group {GroupId}; writing to ClickHouse database {Database}")]
    public static partial void Consuming(ILogger logger, string topic, string groupId, string database);

    [LoggerMessage(1002, LogLevel.Information, "Assigned partitions: {Partitions}")]
    public static partial void PartitionsAssigned(ILogger logger, string partitions);

    [LoggerMessage(1003, LogLevel.Information, "Revoked partitions: {Partitions}; abandoned {Abandoned} unwritten messages for the next owner")]
    public static partial void PartitionsRevoked(ILogger logger, string partitions, int abandoned);

    [LoggerMessage(1004, LogLevel.Warning, "Lost partitions: {Partitions}; abandoned {Abandoned} unwritten messages for the next owner")]
    public static partial void PartitionsLost(ILogger logger, string partitions, int abandoned);

    [LoggerMessage(1005, LogLevel.Warning, "Could not commit the offsets of revoked partitions; the next owner re-reads (and deduplicates) them")]
    public static partial void RevokeCommitFailed(ILogger logger, Exception error);

    [LoggerMessage(1006, LogLevel.Warning, "Kafka: {Reason} ({Code})")]
    public static partial void KafkaError(ILogger logger, string reason, Confluent.Kafka.ErrorCode code);

    [LoggerMessage(1007, LogLevel.Warning, "Consume failed: {Reason}")]
    public static partial void ConsumeFailed(ILogger logger, string reason);

    [LoggerMessage(1010, LogLevel.Warning, "Batch of {Count} messages could not be written (attempt {Attempt}); consumption paused, retrying in {BackoffMs} ms")]
    public static partial void BatchFailed(ILogger logger, int count, int attempt, long backoffMs, Exception error);

    [LoggerMessage(1011, LogLevel.Information, "Batch written after {Attempts} attempts; consumption resumed")]
    public static partial void BatchRecovered(ILogger logger, int attempts);

    [LoggerMessage(1012, LogLevel.Warning, "Row {RowIndex} of a batch could not be encoded for ClickHouse; dead-lettering it")]
    public static partial void RowUnwritable(ILogger logger, int rowIndex, Exception error);

    [LoggerMessage(1013, LogLevel.Information, "Dead-lettered {Count} poison messages (first reason: {Reason})")]
    public static partial void DeadLettered(ILogger logger, int count, string reason);

    [LoggerMessage(1020, LogLevel.Warning, "Schema migration failed (attempt {Attempt}); retrying in {BackoffMs} ms")]
    public static partial void MigrationFailed(ILogger logger, int attempt, long backoffMs, Exception error);

    [LoggerMessage(1030, LogLevel.Critical, "The consumer loop cannot continue; stopping the host")]
    public static partial void LoopFailed(ILogger logger, Exception error);

    [LoggerMessage(1031, LogLevel.Information, "Stopped consuming; stored offsets committed")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(1033, LogLevel.Warning, "Closing the consumer failed")]
    public static partial void CloseFailed(ILogger logger, Exception error);

    [LoggerMessage(1032, LogLevel.Warning, "Could not write the last batch while stopping; its {Count} messages will be read again on the next start")]
    public static partial void FinalBatchAbandoned(ILogger logger, int count, Exception error);
}
