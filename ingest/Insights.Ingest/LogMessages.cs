using Microsoft.Extensions.Logging;

namespace Insights.Ingest;

/// <summary>Every log line ingest writes on its request path or from the Kafka client, with stable event ids.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(1001, LogLevel.Information, "Producing events to Kafka topic {Topic} via {BootstrapServers} (delivery timeout {DeliveryTimeout})")]
    public static partial void ProducerStarted(this ILogger logger, string topic, string bootstrapServers, TimeSpan deliveryTimeout);

    [LoggerMessage(1002, LogLevel.Warning, "Kafka deliveries are failing, requests are answered 503: {Error}")]
    public static partial void DeliveriesFailing(this ILogger logger, string error);

    [LoggerMessage(1003, LogLevel.Information, "Kafka deliveries succeed again")]
    public static partial void DeliveriesRecovered(this ILogger logger);

    [LoggerMessage(1004, LogLevel.Warning, "Kafka client error {Code}: {Reason} ({Repeats} more since the last report)")]
    public static partial void KafkaError(this ILogger logger, string code, string reason, int repeats);

    [LoggerMessage(1005, LogLevel.Critical, "Kafka producer failed fatally ({Code}: {Reason}); stopping so the host is restarted with a fresh producer")]
    public static partial void KafkaFatal(this ILogger logger, string code, string reason);

    [LoggerMessage(1006, LogLevel.Information, "Flushing the Kafka producer: {Pending} messages awaiting acknowledgement")]
    public static partial void Flushing(this ILogger logger, int pending);

    [LoggerMessage(1007, LogLevel.Warning, "{Pending} messages were still unacknowledged by Kafka at shutdown; no request was answered 202 for them")]
    public static partial void FlushIncomplete(this ILogger logger, int pending);

    [LoggerMessage(EventId = 1008, Message = "librdkafka [{Facility}] {Message}")]
    public static partial void KafkaLog(this ILogger logger, LogLevel level, string facility, string message);

    [LoggerMessage(1009, LogLevel.Information, "Back-pressure: the consumer groups {Groups} are watched on {Topic}; public keys are refused from {PublicLimit} bytes behind on a partition, every source from {Limit}")]
    public static partial void BacklogWatched(this ILogger logger, string topic, string groups, long limit, long publicLimit);

    [LoggerMessage(1010, LogLevel.Warning, "Back-pressure: the processors are {Bytes} bytes behind on partition {Partition}; {Who} answered 503 until they catch up")]
    public static partial void BacklogClosing(this ILogger logger, long bytes, int partition, string who);

    [LoggerMessage(1011, LogLevel.Information, "Back-pressure: the processors caught up ({Bytes} bytes behind at most); every source is accepted again")]
    public static partial void BacklogOpen(this ILogger logger, long bytes);

    [LoggerMessage(1012, LogLevel.Warning, "Back-pressure: cannot read the consumer groups' progress ({Error}); the gate stays as it was until it can")]
    public static partial void BacklogUnreadable(this ILogger logger, string error);

    [LoggerMessage(1013, LogLevel.Information, "Back-pressure: the consumer groups' progress is readable again")]
    public static partial void BacklogReadable(this ILogger logger);
}
