using Microsoft.Extensions.Logging;

namespace Insights.Attribution;

/// <summary>Attribution's own log lines with stable event ids (5000s; the consumer loop's are 6000s). Per-event
/// outcomes are metrics.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(5012, LogLevel.Warning, "A component was cut at {Nodes} nodes / {Rounds} rounds while loading; attribution of that person may be incomplete")]
    public static partial void ComponentTruncated(ILogger logger, int nodes, int rounds);
}
