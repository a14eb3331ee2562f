using Microsoft.Extensions.Logging;

namespace Insights.Enrichment;

/// <summary>The enrichment library's log lines with stable event ids (2000–2099). Per-event outcomes are metrics.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(2001, LogLevel.Information, "Enrichment on: {On}")]
    public static partial void EnrichmentsOn(ILogger logger, string on);

    [LoggerMessage(2002, LogLevel.Warning, "Enrichment off: {Off}")]
    public static partial void EnrichmentsOff(ILogger logger, string off);

    /// <summary>The same line when only enrichments that are off by default (reverse DNS) are off: nothing to fix.</summary>
    [LoggerMessage(2007, LogLevel.Information, "Enrichment off: {Off}")]
    public static partial void OptionalEnrichmentsOff(ILogger logger, string off);

    [LoggerMessage(2003, LogLevel.Error, "Enrichment data {Setting} could not be read; that enrichment is off: {Reason}")]
    public static partial void DataUnreadable(ILogger logger, string setting, string reason, Exception error);

    [LoggerMessage(2004, LogLevel.Warning, "ASN CSV: {Malformed} malformed rows skipped ({Overlapping} overlapping ranges ignored), e.g. {Examples}")]
    public static partial void AsnRowsSkipped(ILogger logger, int malformed, int overlapping, string examples);

    [LoggerMessage(2005, LogLevel.Debug, "Reverse DNS lookup failed: {Error}")]
    public static partial void ReverseDnsFailed(ILogger logger, string error);

    [LoggerMessage(2006, LogLevel.Information, "Enrichment data loaded in {ElapsedMs} ms")]
    public static partial void Loaded(ILogger logger, long elapsedMs);
}
