using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Unit;

public sealed class TimestampPolicyTests
{
    private static readonly DateTimeOffset Received = new(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Future = TimeSpan.FromHours(1);
    private static readonly TimeSpan Past = TimeSpan.FromDays(7);

    private static (DateTimeOffset, bool) Resolve(DateTimeOffset? timestamp, DateTimeOffset? sentAt = null) =>
        TimestampPolicy.Resolve(timestamp, sentAt, Received, Future, Past);

    [Fact]
    public void A_missing_timestamp_is_the_receive_time_and_not_a_clamp() =>
        Assert.Equal((Received, false), Resolve(null));

    [Fact]
    public void Timestamps_inside_the_window_are_kept_to_the_edges()
    {
        Assert.Equal((Received.AddMinutes(-5), false), Resolve(Received.AddMinutes(-5)));
        Assert.Equal((Received + Future, false), Resolve(Received + Future));
        Assert.Equal((Received - Past, false), Resolve(Received - Past));
    }

    [Fact]
    public void Timestamps_beyond_the_window_become_the_receive_time_and_say_so()
    {
        Assert.Equal((Received, true), Resolve(Received + Future + TimeSpan.FromMilliseconds(1)));
        Assert.Equal((Received, true), Resolve(Received - Past - TimeSpan.FromMilliseconds(1)));
        Assert.Equal((Received, true), Resolve(new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void SentAt_shifts_the_timestamp_by_the_clients_clock_error()
    {
        // The client's clock runs 3 days ahead: without the correction the event would be clamped.
        var clientNow = Received.AddDays(3);
        Assert.Equal((Received.AddSeconds(-30), false), Resolve(clientNow.AddSeconds(-30), clientNow));
    }

    [Fact]
    public void The_corrected_time_is_still_clamped_when_implausible()
    {
        // Sent 10 days after it happened (by the client's own clock): older than the window allows.
        Assert.Equal((Received, true), Resolve(Received.AddDays(-10), Received));
    }

    [Fact]
    public void Extreme_values_are_clamped_instead_of_overflowing()
    {
        Assert.Equal((Received, true), Resolve(DateTimeOffset.MaxValue, DateTimeOffset.MinValue));
        Assert.Equal((Received, true), Resolve(DateTimeOffset.MinValue, DateTimeOffset.MaxValue));
        Assert.Equal((Received, true), Resolve(DateTimeOffset.MaxValue));
    }
}
