using System.Diagnostics.Metrics;
using Insights.Enrichment.Caching;

namespace Insights.Enrichment.Tests;

public sealed class CacheTests
{
    private sealed record Entry(string Key, int Hash) : ICacheEntry
    {
        public static Entry Of(string key) => new(key, BoundedCache<Entry>.HashOf(key));
    }

    [Fact]
    public void The_cache_never_holds_more_than_its_capacity_and_keeps_recent_entries_findable()
    {
        var cache = new BoundedCache<Entry>(1_000);
        for (var i = 0; i < 100_000; i++)
        {
            cache.Set(Entry.Of($"10.0.{i / 256}.{i % 256}"));
        }

        Assert.Equal(1_024, cache.Capacity);
        var found = Enumerable.Range(0, 100_000).Count(i =>
        {
            var key = $"10.0.{i / 256}.{i % 256}";
            return cache.TryGet(key, BoundedCache<Entry>.HashOf(key), out _);
        });
        Assert.InRange(found, 1, 1_024);
        var last = "10.0.390.159";
        Assert.True(cache.TryGet(last, BoundedCache<Entry>.HashOf(last), out var entry));
        Assert.Equal(last, entry.Key);
    }

    [Fact]
    public void Setting_a_key_again_replaces_its_entry()
    {
        var cache = new BoundedCache<Entry>(16);
        var first = Entry.Of("a");
        var second = Entry.Of("a");
        cache.Set(first);
        cache.Set(second);

        Assert.True(cache.TryGet("a", first.Hash, out var found));
        Assert.Same(second, found);
    }

    [Fact]
    public void Hits_misses_and_drops_are_counted_once_per_batch_by_reason()
    {
        var measurements = new List<(string Instrument, long Value, string Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EnrichmentMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (measurements)
            {
                measurements.Add((instrument.Name, value, string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"))));
            }
        });
        listener.Start();

        using var pipeline = Pipelines.Create(o => o.CrawlerPatternsFile = Path.Combine(TestData.RequireIpData(), IpDataPackages.CrawlerUserAgents, "crawler-user-agents.json"));
        var batch = new[]
        {
            Pipelines.Event("192.0.2.1"), Pipelines.Event("192.0.2.1"), Pipelines.Event("192.0.2.2"),
            Pipelines.Event("192.0.2.1", Agents.Googlebot), Pipelines.Event("192.0.2.1", "HeadlessChrome/120"),
        };
        pipeline.Enrich(batch, new EnrichedEvent[batch.Length]);

        lock (measurements)
        {
            var mine = measurements.Where(m => m.Instrument.StartsWith("insights.enrichment", StringComparison.Ordinal)).ToList();
            Assert.Contains(("insights.enrichment.events.enriched", 5L, ""), mine);
            Assert.Contains(("insights.enrichment.events.dropped", 1L, "reason=crawler"), mine);
            Assert.Contains(("insights.enrichment.events.dropped", 1L, "reason=headless_browser"), mine);
            Assert.Contains(("insights.enrichment.cache.lookups", 3L, "cache=ip,result=hit"), mine);
            Assert.Contains(("insights.enrichment.cache.lookups", 2L, "cache=ip,result=miss"), mine);
            Assert.Contains(("insights.enrichment.cache.lookups", 2L, "cache=user_agent,result=hit"), mine);
            Assert.Contains(("insights.enrichment.cache.lookups", 3L, "cache=user_agent,result=miss"), mine);
        }
    }

    [Fact]
    public void Concurrent_batches_share_the_caches_safely()
    {
        var pipeline = Pipelines.Real;
        var ips = Enumerable.Range(0, 2_000).Select(i => i % 3 == 0 ? "139.48.1.1" : $"73.162.{i / 256}.{i % 256}").ToArray();

        Parallel.For(0, 8, worker =>
        {
            var batch = ips.Select(ip => Pipelines.Event(ip)).ToArray();
            var results = new EnrichedEvent[batch.Length];
            pipeline.Enrich(batch, results);
            for (var i = 0; i < batch.Length; i += 3)
            {
                Assert.Equal("Alberta Health Services", results[i].Business?.Name);
            }
        });
    }
}
