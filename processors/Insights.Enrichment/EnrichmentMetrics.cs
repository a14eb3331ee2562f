using System.Diagnostics.Metrics;
using Insights.ServiceDefaults;

namespace Insights.Enrichment;

/// <summary>
/// Meter <c>Insights.Enrichment</c>. Counts are added once per batch (per reason, per cache), never per event, so a
/// listening exporter costs the hot path nothing. In Prometheus: <c>insights_enrichment_events_dropped_total{reason}</c>,
/// <c>insights_enrichment_cache_lookups_total{cache,result}</c>; the hit rate is hits / (hits + misses).
/// </summary>
public sealed class EnrichmentMetrics
{
    public static readonly string MeterName = InsightsTelemetry.NameFor("Enrichment");

    private readonly Counter<long> enriched;
    private readonly Counter<long> dropped;
    private readonly Counter<long> cacheLookups;
    private readonly Counter<long> reverseDns;

    public EnrichmentMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        enriched = meter.CreateCounter<long>("insights.enrichment.events.enriched", "{event}", "Events that went through the enrichment steps.");
        dropped = meter.CreateCounter<long>("insights.enrichment.events.dropped", "{event}",
            "Events that are not a visitor's (bots), by reason: crawler, headless_browser, datacenter, search_engine_spider.");
        cacheLookups = meter.CreateCounter<long>("insights.enrichment.cache.lookups", "{lookup}",
            "Cache lookups by cache (ip, user_agent) and result (hit, miss).");
        reverseDns = meter.CreateCounter<long>("insights.enrichment.reverse_dns.lookups", "{lookup}",
            "Background reverse DNS lookups by outcome: resolved, no_domain, failed, timeout, skipped (queue full).");
    }

    internal void Batch(int events, in BatchCounts counts)
    {
        enriched.Add(events);
        Add(dropped, counts.Crawler, "reason", DropReasons.Crawler);
        Add(dropped, counts.Headless, "reason", DropReasons.HeadlessBrowser);
        Add(dropped, counts.Datacenter, "reason", DropReasons.Datacenter);
        Add(dropped, counts.Spider, "reason", DropReasons.SearchEngineSpider);
        Cache("ip", counts.IpHits, counts.IpMisses);
        Cache("user_agent", counts.UserAgentHits, counts.UserAgentMisses);
    }

    internal void ReverseDns(string outcome) => reverseDns.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    private void Cache(string cache, int hits, int misses)
    {
        if (hits > 0)
        {
            cacheLookups.Add(hits, new KeyValuePair<string, object?>("cache", cache), new KeyValuePair<string, object?>("result", "hit"));
        }

        if (misses > 0)
        {
            cacheLookups.Add(misses, new KeyValuePair<string, object?>("cache", cache), new KeyValuePair<string, object?>("result", "miss"));
        }
    }

    private static void Add(Counter<long> counter, int value, string tag, string tagValue)
    {
        if (value > 0)
        {
            counter.Add(value, new KeyValuePair<string, object?>(tag, tagValue));
        }
    }
}

/// <summary>One batch's outcomes, counted in locals and reported to the meter once.</summary>
internal struct BatchCounts
{
    public int Crawler;
    public int Headless;
    public int Datacenter;
    public int Spider;
    public int IpHits;
    public int IpMisses;
    public int UserAgentHits;
    public int UserAgentMisses;

    public void Dropped(string reason)
    {
        switch (reason)
        {
            case DropReasons.Crawler: Crawler++; break;
            case DropReasons.HeadlessBrowser: Headless++; break;
            case DropReasons.Datacenter: Datacenter++; break;
            case DropReasons.SearchEngineSpider: Spider++; break;
        }
    }
}
