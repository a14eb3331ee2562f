using Microsoft.Extensions.Logging;

namespace Insights.ControlPlane.People;

/// <summary>Log lines of sign-in, invitations and mail, with stable event ids (65xx).</summary>
internal static partial class PeopleLog
{
    [LoggerMessage(EventId = 6501, Level = LogLevel.Information, Message = "Mail:Host is not set: mail stays in the outbox table, unsent (development)")]
    public static partial void MailStaysInOutbox(this ILogger logger);

    [LoggerMessage(EventId = 6502, Level = LogLevel.Warning, Message = "Sending the outbox failed; it is retried next round")]
    public static partial void OutboxRoundFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6503, Level = LogLevel.Warning, Message = "Mail {MailId} was refused: {Error}")]
    public static partial void MailRefused(this ILogger logger, long mailId, string error);

    [LoggerMessage(EventId = 6504, Level = LogLevel.Warning, Message = "Person {PersonId} locked out until {Until} after {Failures} wrong passwords")]
    public static partial void LockedOut(this ILogger logger, Guid personId, DateTimeOffset until, int failures);
}
