using System.Collections.Concurrent;
using Insights.Contracts;
using Insights.Ingest.Admission;

namespace Insights.Ingest.RateLimiting;

/// <summary>
/// One token bucket per site and <see cref="TrustLevel"/>: public keys, server keys and webhooks each have their own,
/// refilled continuously at the site's rate for that source (<see cref="SiteOptions.RateLimitPerSecond"/>,
/// <see cref="SiteOptions.ServerRateLimitPerSecond"/>, <see cref="SiteOptions.WebhookRateLimitPerSecond"/>) and holding
/// at most one second's worth, so a flood on the public key is refused without refusing the shop's own calls. Counted per
/// ingest instance: N replicas admit N times the rate.
/// </summary>
public sealed class SiteRateLimiter(TimeProvider time)
{
    private static readonly int Levels = Enum.GetValues<TrustLevel>().Length;

    private readonly ConcurrentDictionary<string, TokenBucket[]> buckets = new(StringComparer.Ordinal);

    /// <summary>Takes <paramref name="events"/> tokens from the source's bucket, or says how long until they would be there.</summary>
    public bool TryAcquire(SiteOptions site, TrustLevel source, int events, out TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(site);
        var bucket = buckets.GetOrAdd(site.Id, static (_, s) => NewBuckets(s), site)[(int)source];
        return bucket.TryTake(events, time.GetTimestamp(), time.TimestampFrequency, out retryAfter);
    }

    /// <summary>The events per second the site admits from <paramref name="source"/>.</summary>
    public static int RateOf(SiteOptions site, TrustLevel source)
    {
        ArgumentNullException.ThrowIfNull(site);
        return source switch
        {
            TrustLevel.Public => site.RateLimitPerSecond,
            TrustLevel.Server => site.ServerRateLimitPerSecond,
            _ => site.WebhookRateLimitPerSecond,
        };
    }

    private static TokenBucket[] NewBuckets(SiteOptions site)
    {
        var all = new TokenBucket[Levels];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = new TokenBucket(RateOf(site, (TrustLevel)i));
        }

        return all;
    }

    private sealed class TokenBucket(int perSecond)
    {
        private readonly Lock gate = new();
        private double tokens = perSecond;
        private long refilledAt = -1;

        public bool TryTake(int count, long now, long frequency, out TimeSpan retryAfter)
        {
            lock (gate)
            {
                if (refilledAt >= 0)
                {
                    tokens = Math.Min(perSecond, tokens + (now - refilledAt) * (double)perSecond / frequency);
                }

                refilledAt = now;

                // A batch bigger than the bucket could never fit; a full bucket admits it and goes into debt instead,
                // so the long-run rate still holds.
                if (tokens >= count || tokens >= perSecond)
                {
                    tokens -= count;
                    retryAfter = TimeSpan.Zero;
                    return true;
                }

                var missing = Math.Min(count, perSecond) - tokens;
                retryAfter = TimeSpan.FromSeconds(missing / perSecond);
                return false;
            }
        }
    }
}
