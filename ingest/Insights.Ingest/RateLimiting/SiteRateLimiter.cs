using System.Collections.Concurrent;
using Insights.Contracts;

namespace Insights.Ingest.RateLimiting;

/// <summary>
/// One token bucket per site, refilled continuously at <see cref="SiteOptions.RateLimitPerSecond"/> events per second
/// and holding at most one second's worth. Counted per ingest instance: N replicas admit N times the rate.
/// </summary>
public sealed class SiteRateLimiter(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, TokenBucket> buckets = new(StringComparer.Ordinal);

    /// <summary>Takes <paramref name="events"/> tokens, or says how long until they would be there.</summary>
    public bool TryAcquire(SiteOptions site, int events, out TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(site);
        var bucket = buckets.GetOrAdd(site.Id, static (_, s) => new TokenBucket(s.RateLimitPerSecond), site);
        return bucket.TryTake(events, time.GetTimestamp(), time.TimestampFrequency, out retryAfter);
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
