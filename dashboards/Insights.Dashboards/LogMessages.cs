namespace Insights.Dashboards;

/// <summary>The web app's log lines, with stable event ids (8xxx).</summary>
internal static partial class LogMessages
{
    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning, Message = "The query API answered {Status} ({Reason}) to {Method} {Path}")]
    public static partial void ApiFailed(this ILogger logger, int status, string reason, string method, string path);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "The query API could not be reached for {Method} {Path}")]
    public static partial void ApiUnreachable(this ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Information, Message = "Live stream {Path} dropped; reconnecting in {Seconds} s")]
    public static partial void LiveStreamDropped(this ILogger logger, string path, int seconds, Exception? exception);
}
