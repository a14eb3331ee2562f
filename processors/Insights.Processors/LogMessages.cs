using Microsoft.Extensions.Logging;

namespace Insights.Processors;

/// <summary>The processors' own log lines with stable event ids (4000s; the consumer loop's are 6000s, ingest's 1000s).
/// Per-event outcomes are metrics, not lines here.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(4012, LogLevel.Warning, "Row {RowIndex} of a batch could not be encoded for ClickHouse; dead-lettering it")]
    public static partial void RowUnwritable(ILogger logger, int rowIndex, Exception error);

    [LoggerMessage(4020, LogLevel.Warning, "Rolling up the stats report's settled quarter hours failed; retrying every interval, reports read those hours raw meanwhile")]
    public static partial void RollupFailed(ILogger logger, Exception error);
}
