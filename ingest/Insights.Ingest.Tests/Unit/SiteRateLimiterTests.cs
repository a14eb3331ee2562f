using Insights.Contracts;
using Insights.Ingest.Admission;
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
        Assert.True(limiter.TryAcquire(site, TrustLevel.Public, 60, out _));
        Assert.True(limiter.TryAcquire(site, TrustLevel.Public, 40, out _));

        Assert.False(limiter.TryAcquire(site, TrustLevel.Public, 50, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(0.5), wait);
    }

    [Fact]
    public void Tokens_come_back_at_the_configured_rate_and_never_beyond_one_second()
    {
        Assert.True(limiter.TryAcquire(site, TrustLevel.Public, 100, out _));
        clock.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True(limiter.TryAcquire(site, TrustLevel.Public, 25, out _));
        Assert.False(limiter.TryAcquire(site, TrustLevel.Public, 1, out _));

        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.True(limiter.TryAcquire(site, TrustLevel.Public, 100, out _));
        Assert.False(limiter.TryAcquire(site, TrustLevel.Public, 1, out _));
    }

    [Fact]
    public void A_batch_bigger_than_the_bucket_passes_once_and_the_debt_is_paid_in_time()
    {
        Assert.True(limiter.TryAcquire(site, TrustLevel.Public, 500, out _));

        Assert.False(limiter.TryAcquire(site, TrustLevel.Public, 1, out var wait));
        Assert.Equal(4.01, wait.TotalSeconds, 3);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(limiter.TryAcquire(site, TrustLevel.Public, 100, out _));
    }

    [Fact]
    public void Sites_have_their_own_buckets()
    {
        var other = new SiteOptions { Id = "other", RateLimitPerSecond = 10 };
        Assert.True(limiter.TryAcquire(site, TrustLevel.Public, 100, out _));

        Assert.True(limiter.TryAcquire(other, TrustLevel.Public, 10, out _));
        Assert.False(limiter.TryAcquire(other, TrustLevel.Public, 1, out _));
    }

    [Fact]
    public void Public_server_and_webhook_traffic_have_their_own_buckets_and_rates()
    {
        var shop = new SiteOptions { Id = "shop", RateLimitPerSecond = 10, ServerRateLimitPerSecond = 5, WebhookRateLimitPerSecond = 3 };
        Assert.True(limiter.TryAcquire(shop, TrustLevel.Public, 10, out _));
        Assert.False(limiter.TryAcquire(shop, TrustLevel.Public, 10, out _));

        // The public bucket is empty; the shop's own calls and its platforms' webhooks are not refused for it.
        Assert.True(limiter.TryAcquire(shop, TrustLevel.Server, 5, out _));
        Assert.False(limiter.TryAcquire(shop, TrustLevel.Server, 5, out _));
        Assert.True(limiter.TryAcquire(shop, TrustLevel.Webhook, 3, out _));
        Assert.False(limiter.TryAcquire(shop, TrustLevel.Webhook, 3, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(1), wait);
    }

    private sealed class ManualClock : TimeProvider
    {
        private long ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => ticks;

        public void Advance(TimeSpan by) => ticks += by.Ticks;
    }
}
