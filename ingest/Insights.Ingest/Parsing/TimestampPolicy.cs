namespace Insights.Ingest.Parsing;

/// <summary>Turns a client's claim of when an event happened into a time the reports can trust.</summary>
public static class TimestampPolicy
{
    /// <summary>
    /// Corrects the client's clock like Segment does when it sent <c>sentAt</c> (the client's clock at sending):
    /// the event happened <c>sentAt - timestamp</c> before ingest received it. A missing timestamp is received_at.
    /// A result outside [received_at - maxPastAge, received_at + maxFutureSkew] is replaced by received_at and
    /// marked clamped, so one broken clock cannot put events into another month.
    /// </summary>
    public static (DateTimeOffset Timestamp, bool Clamped) Resolve(
        DateTimeOffset? timestamp, DateTimeOffset? sentAt, DateTimeOffset receivedAt, TimeSpan maxFutureSkew, TimeSpan maxPastAge)
    {
        if (timestamp is not { } happened)
        {
            return (receivedAt, false);
        }

        if (sentAt is { } sent)
        {
            // Out-of-range arithmetic is itself an implausible timestamp, not an error of ours.
            var skew = receivedAt - sent;
            happened = IsAddable(happened, skew) ? happened + skew : DateTimeOffset.MinValue;
        }

        var earliest = receivedAt - maxPastAge;
        var latest = receivedAt + maxFutureSkew;
        return happened < earliest || happened > latest ? (receivedAt, true) : (happened, false);
    }

    private static bool IsAddable(DateTimeOffset value, TimeSpan delta) =>
        delta >= TimeSpan.Zero
            ? value.UtcTicks <= DateTimeOffset.MaxValue.UtcTicks - delta.Ticks
            : value.UtcTicks >= DateTimeOffset.MinValue.UtcTicks - delta.Ticks;
}
