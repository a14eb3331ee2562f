using Microsoft.Extensions.Logging;

namespace Insights.Attribution;

/// <summary>Attribution's own log lines with stable event ids (5000s; the consumer loop's are 6000s). Per-event
/// outcomes are metrics.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(5012, LogLevel.Warning, "A component was cut at {Nodes} nodes / {Rounds} rounds while loading; attribution of that person may be incomplete")]
    public static partial void ComponentTruncated(ILogger logger, int nodes, int rounds);

    [LoggerMessage(5013, LogLevel.Warning, "Could not commit how far attribution got (group {GroupId}); kept for the next commit")]
    public static partial void ProgressNotCommitted(ILogger logger, string groupId, Exception error);

    [LoggerMessage(5014, LogLevel.Warning, "Could not read how far attribution got (group {GroupId}); the processors resume at their own offsets, and events between the two, if any, are not attributed")]
    public static partial void ProgressUnknown(ILogger logger, string groupId, Exception error);

    [LoggerMessage(5015, LogLevel.Information, "{Topic}[{Partition}]: attribution had reached offset {Attributed}, the processors {Processed}: reading again from {Attributed}, so those events are attributed (the processors' writes deduplicate them)")]
    public static partial void ResumingForAttribution(ILogger logger, string topic, int partition, long attributed, long processed);

    [LoggerMessage(5016, LogLevel.Warning, "Kafka (attribution's offsets) {Facility}: {Message}")]
    public static partial void ProgressKafka(ILogger logger, string facility, string message);
}
