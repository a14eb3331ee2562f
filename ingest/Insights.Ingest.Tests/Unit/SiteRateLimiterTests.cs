using Insights.Contracts;
using Insights.Ingest.RateLimiting;

namespace Insights.Ingest.Tests.Unit;

public sealed class SiteRateLimiterTests
{
    private readonly ManualClock clock = new();
    private readonly SiteOptions site = new() { Id = "limited", RateLimitPerSecond = 100 };
    private readonly SiteRateLimiter limiter;

    public SiteRateLimiterTests() => limiter = new SiteRateLimiter(clock);

    [Fact]
    public void A_full_bucket_admits_one_seconds_worth_then_refuses_with_the_wait()
    {
        Assert.True(limiter.TryAcquire(site, 60, out _));
        Assert.True(limiter.TryAcquire(site, 40, out _));

        Assert.False(limiter.TryAcquire(site, 50, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(0.5), wait);
    }

    [Fact]
    public void Tokens_come_back_at_the_configured_rate_and_never_beyond_one_second()
    {
        Assert.True(limiter.TryAcquire(site, 100, out _));
        clock.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True(limiter.TryAcquire(site, 25, out _));
        Assert.False(limiter.TryAcquire(site, 1, out _));

        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.True(limiter.TryAcquire(site, 100, out _));
        Assert.False(limiter.TryAcquire(site, 1, out _));
    }

    [Fact]
    public void A_batch_bigger_than_the_bucket_passes_once_and_the_debt_is_paid_in_time()
    {
        Assert.True(limiter.TryAcquire(site, 500, out _));

        Assert.False(limiter.TryAcquire(site, 1, out var wait));
        Assert.Equal(4.01, wait.TotalSeconds, 3);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(limiter.TryAcquire(site, 100, out _));
    }

    [Fact]
    public void Sites_have_their_own_buckets()
    {
        var other = new SiteOptions { Id = "other", RateLimitPerSecond = 10 };
        Assert.True(limiter.TryAcquire(site, 100, out _));

        Assert.True(limiter.TryAcquire(other, 10, out _));
        Assert.False(limiter.TryAcquire(other, 1, out _));
    }

    private sealed class ManualClock : TimeProvider
    {
        private long ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => ticks;

        public void Advance(TimeSpan by) => ticks += by.Ticks;
    }
}
