using Microsoft.Extensions.Logging;

namespace Insights.Processors.Consuming;

/// <summary>The consumer loop's log lines with stable event ids (6000s), each naming its group. Per-message outcomes
/// are metrics, not lines here.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(6001, LogLevel.Information, "{Group}: consuming {Topic} as group {GroupId}; writing to ClickHouse database {Database}")]
    public static partial void Consuming(ILogger logger, string group, string topic, string groupId, string database);

    [LoggerMessage(6002, LogLevel.Information, "{Group}: assigned partitions: {Partitions}")]
    public static partial void PartitionsAssigned(ILogger logger, string group, string partitions);

    [LoggerMessage(6003, LogLevel.Information, "{Group}: revoked partitions: {Partitions}; abandoned {Abandoned} unwritten messages for the next owner")]
    public static partial void PartitionsRevoked(ILogger logger, string group, string partitions, int abandoned);

    [LoggerMessage(6004, LogLevel.Warning, "{Group}: lost partitions: {Partitions}; abandoned {Abandoned} unwritten messages for the next owner")]
    public static partial void PartitionsLost(ILogger logger, string group, string partitions, int abandoned);

    [LoggerMessage(6005, LogLevel.Warning, "{Group}: could not commit the offsets of revoked partitions; the next owner re-reads (and deduplicates) them")]
    public static partial void RevokeCommitFailed(ILogger logger, string group, Exception error);

    [LoggerMessage(6006, LogLevel.Warning, "{Group}: Kafka: {Reason} ({Code})")]
    public static partial void KafkaError(ILogger logger, string group, string reason, Confluent.Kafka.ErrorCode code);

    [LoggerMessage(6008, LogLevel.Error, "{Group}: messages were lost unread: Kafka no longer had the next ones of a partition, so the group skipped ahead ({Detail}). The group fell further behind than the topic keeps: give it more time (retention) or more processors; the dev stack's broker keeps only 5 MiB per partition")]
    public static partial void OffsetSkipped(ILogger logger, string group, string detail);

    [LoggerMessage(6009, LogLevel.Warning, "{Group}: Kafka {Facility}: {Message}")]
    public static partial void KafkaWarning(ILogger logger, string group, string facility, string message);

    [LoggerMessage(6007, LogLevel.Warning, "{Group}: consume failed: {Reason}")]
    public static partial void ConsumeFailed(ILogger logger, string group, string reason);

    [LoggerMessage(6010, LogLevel.Warning, "{Group}: batch of {Count} messages could not be written (attempt {Attempt}); consumption paused, retrying in {BackoffMs} ms")]
    public static partial void BatchFailed(ILogger logger, string group, int count, int attempt, long backoffMs, Exception error);

    [LoggerMessage(6011, LogLevel.Information, "{Group}: batch written after {Attempts} attempts; consumption resumed")]
    public static partial void BatchRecovered(ILogger logger, string group, int attempts);

    [LoggerMessage(6012, LogLevel.Warning, "{Group}: a batch of {Count} messages was refused ({Reason}); splitting it to isolate the messages responsible")]
    public static partial void BatchRefused(ILogger logger, string group, int count, string reason, Exception error);

    [LoggerMessage(6013, LogLevel.Information, "{Group}: dead-lettered {Count} messages (first reason: {Reason})")]
    public static partial void DeadLettered(ILogger logger, string group, int count, string reason);

    [LoggerMessage(6020, LogLevel.Warning, "{Group}: Schema migration failed (attempt {Attempt}); retrying in {BackoffMs} ms")]
    public static partial void MigrationFailed(ILogger logger, string group, int attempt, long backoffMs, Exception error);

    [LoggerMessage(6030, LogLevel.Critical, "{Group}: the consumer loop cannot continue; stopping the host")]
    public static partial void LoopFailed(ILogger logger, string group, Exception error);

    [LoggerMessage(6031, LogLevel.Information, "{Group}: stopped consuming; stored offsets committed")]
    public static partial void Stopped(ILogger logger, string group);

    [LoggerMessage(6032, LogLevel.Warning, "{Group}: could not write the last batch while stopping; its {Count} messages will be read again on the next start")]
    public static partial void FinalBatchAbandoned(ILogger logger, string group, int count, Exception error);

    [LoggerMessage(6033, LogLevel.Warning, "{Group}: closing the consumer failed")]
    public static partial void CloseFailed(ILogger logger, string group, Exception error);

    [LoggerMessage(6034, LogLevel.Error, "{Group}: could not resume {Partitions}, paused for a back-off, before they left; if the group gives them back to this processor, the messages it had consumed and not written may be skipped")]
    public static partial void ResumeLeavingFailed(ILogger logger, string group, string partitions, Exception error);
}
