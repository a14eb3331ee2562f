using System.Diagnostics.CodeAnalysis;
using Insights.Contracts;
using Insights.Enrichment.Caching;
using Insights.Enrichment.Company;
using Insights.Enrichment.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Enrichment;

/// <summary>
/// The processors' enrichment: an ordered list of named steps run over a batch — bots, geo, device, company,
/// privacy — after each event's IP and user agent were resolved once through bounded caches. A bot is dropped with a
/// named reason (a metric tag), and the steps after it skip the event (except privacy: no result ever carries an IP
/// the site's mode forbids). Thread-safe: several consumers may enrich their batches at once.
/// </summary>
/// <remarks>
/// Cost per event on warm caches is two hash lookups and a handful of field copies; allocation is zero (the results
/// are structs in the caller's span, pointing at cached objects). A cache miss costs the database lookups (5–20 µs).
/// </remarks>
public sealed class EnrichmentPipeline : IAsyncDisposable, IDisposable
{
    /// <summary>User agents longer than this are classified but not cached: they would pin kilobytes per cache slot.</summary>
    internal const int MaxCachedUserAgentLength = 512;

    private static readonly UserAgentIntel NoUserAgent = new("", 0, null, null, false, DeviceInfo.Unknown);

    private readonly EnrichmentSources sources;
    private readonly EnrichmentMetrics metrics;
    private readonly BoundedCache<IpIntel> ipCache;
    private readonly BoundedCache<UserAgentIntel> userAgentCache;
    private readonly ReverseDnsLookup? reverseDns;
    private readonly bool dropCdnTraffic;
    private readonly IEnrichmentStep[] steps;

    public EnrichmentPipeline(
        IOptions<EnrichmentOptions> options, ILogger<EnrichmentPipeline> logger, EnrichmentMetrics metrics, IReverseDnsResolver? reverseDnsResolver = null,
        SiteCatalog? sites = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        var settings = options.Value;
        this.metrics = metrics;
        sources = EnrichmentSources.Load(settings, logger, sites);
        ipCache = new BoundedCache<IpIntel>(settings.IpCacheSize);
        userAgentCache = new BoundedCache<UserAgentIntel>(settings.UserAgentCacheSize);
        dropCdnTraffic = settings.DropCdnTraffic;
        if (settings.ReverseDns.Enabled)
        {
            reverseDns = new ReverseDnsLookup(settings.ReverseDns, reverseDnsResolver ?? new SystemReverseDnsResolver(), ipCache.Set, metrics, logger);
        }

        steps = [new BotStep(this), new GeoStep(), new DeviceStep(), new CompanyStep(this), new PrivacyStep()];
    }

    internal EnrichmentSources Sources => sources;

    /// <summary>The steps in the order they run.</summary>
    public IReadOnlyList<string> Steps => [.. steps.Select(s => s.Name)];

    /// <summary>Which enrichments are on, from what data; what to do to turn the others on.</summary>
    public EnrichmentStatus Status => sources.Status;

    /// <summary>Enriches a batch: <paramref name="results"/>[i] describes <paramref name="events"/>[i].</summary>
    public void Enrich(ReadOnlySpan<PipelineEvent> events, Span<EnrichedEvent> results)
    {
        if (results.Length < events.Length)
        {
            throw new ArgumentException($"results holds {results.Length} items for {events.Length} events", nameof(results));
        }

        var counts = new BatchCounts();
        Resolve(events, results, ref counts);
        var batch = new Batch(events, results[..events.Length]);
        foreach (var step in steps)
        {
            step.Run(batch, ref counts);
        }

        metrics.Batch(events.Length, counts);
    }

    /// <summary>Enriches one event (tests, tools); batches should use the span overload.</summary>
    public EnrichedEvent Enrich(PipelineEvent pipelineEvent)
    {
        Span<EnrichedEvent> result = new EnrichedEvent[1];
        Enrich([pipelineEvent], result);
        return result[0];
    }

    /// <summary>Empties both caches (benchmarks price a cold batch with it).</summary>
    internal void ClearCaches()
    {
        ipCache.Clear();
        userAgentCache.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        if (reverseDns is not null)
        {
            await reverseDns.DisposeAsync();
        }

        sources.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private void Resolve(ReadOnlySpan<PipelineEvent> events, Span<EnrichedEvent> results, ref BatchCounts counts)
    {
        string? lastSiteId = null;
        var lastSite = sources.DefaultSite;
        for (var i = 0; i < events.Length; i++)
        {
            var e = events[i];
            ref var result = ref results[i];
            result = default;
            // Events of a batch mostly share a site (one partition carries few sites): skip the dictionary then.
            if (!string.Equals(e.SiteId, lastSiteId, StringComparison.Ordinal))
            {
                lastSiteId = e.SiteId;
                lastSite = sources.SiteRulesFor(e.SiteId);
            }

            result.Site = lastSite;
            result.UserAgentIntel = UserAgent(e.UserAgent, ref counts);
            result.IpIntel = Ip(e.Ip, ref counts);
        }
    }

    internal UserAgentIntel UserAgent(string? userAgent, ref BatchCounts counts)
    {
        if (string.IsNullOrEmpty(userAgent))
        {
            return NoUserAgent;
        }

        var hash = BoundedCache<UserAgentIntel>.HashOf(userAgent);
        if (userAgentCache.TryGet(userAgent, hash, out var cached))
        {
            counts.UserAgentHits++;
            return cached;
        }

        counts.UserAgentMisses++;
        var intel = sources.UserAgents.Classify(userAgent, hash);
        if (userAgent.Length <= MaxCachedUserAgentLength)
        {
            userAgentCache.Set(intel);
        }

        return intel;
    }

    /// <summary>One IP through the cache (the company resolution the benchmarks price on hits).</summary>
    internal IpIntel Ip(string? ip, ref BatchCounts counts)
    {
        if (string.IsNullOrEmpty(ip) || ip.Length > IpKey.MaxTextLength)
        {
            return IpIntel.Invalid;
        }

        var hash = BoundedCache<IpIntel>.HashOf(ip);
        if (ipCache.TryGet(ip, hash, out var cached))
        {
            counts.IpHits++;
            return cached;
        }

        counts.IpMisses++;
        var intel = LookUp(ip, hash);
        ipCache.Set(intel);
        return intel;
    }

    /// <summary>The miss path: parse, then every database. Also used by the benchmarks to price a miss.</summary>
    internal IpIntel LookUp(string ip, int hash)
    {
        if (!IpKey.TryParse(ip, out var key, out var address))
        {
            return new IpIntel(ip, hash, default, null, null, null);
        }

        GeoLocation? geo = null;
        CompanyMatch? company = null;
        try
        {
            geo = sources.Geo?.Locate(key, address!);
            company = sources.Company.Resolve(key, address!);
        }
        catch (MaxMind.Db.InvalidDatabaseException)
        {
            // A database corrupted on disk fails per lookup; the event keeps what was found before the failure.
        }

        return new IpIntel(ip, hash, key, address, geo, company);
    }

    private readonly ref struct Batch(ReadOnlySpan<PipelineEvent> events, Span<EnrichedEvent> results)
    {
        public ReadOnlySpan<PipelineEvent> Events { get; } = events;

        public Span<EnrichedEvent> Results { get; } = results;
    }

    private interface IEnrichmentStep
    {
        string Name { get; }

        void Run(Batch batch, ref BatchCounts counts);
    }

    /// <summary>1. Crawler and headless user agents; then hosting (and optionally CDN) networks and spider networks.</summary>
    private sealed class BotStep(EnrichmentPipeline pipeline) : IEnrichmentStep
    {
        public string Name => "bots";

        private static bool IsBrowsingEvent(string type) => type is EventTypes.Pageview or EventTypes.Track;

        public void Run(Batch batch, ref BatchCounts counts)
        {
            for (var i = 0; i < batch.Events.Length; i++)
            {
                ref var result = ref batch.Results[i];
                var userAgent = result.UserAgentIntel!;
                if (userAgent.BotReason is not null && (!userAgent.HttpLibraryOnly || batch.Events[i].Type == EventTypes.Pageview))
                {
                    Drop(ref result, ref counts, userAgent.BotReason, userAgent.BotName);
                    continue;
                }

                var network = result.IpIntel!.Company;
                if (network is null || network.IsBusiness || !IsBrowsingEvent(batch.Events[i].Type))
                {
                    // Orders, chats and identities arrive from shop backends and chat platforms that run in data
                    // centres: the network says nothing about whether a person is behind them.
                    continue;
                }

                var reason = network.Kind switch
                {
                    NetworkKinds.Hosting => DropReasons.Datacenter,
                    NetworkKinds.Cdn when pipeline.dropCdnTraffic => DropReasons.Datacenter,
                    NetworkKinds.SearchEngineSpider => DropReasons.SearchEngineSpider,
                    _ => null,
                };

                // The site's own ranges win here too: a company whose office egress is a cloud proxy is still a visitor.
                if (reason is not null && result.Site!.Ranges.Find(result.IpIntel.Address) is null)
                {
                    Drop(ref result, ref counts, reason, network.Name);
                }
            }
        }

        private static void Drop(ref EnrichedEvent result, ref BatchCounts counts, string reason, string? name)
        {
            result.DropReason = reason;
            result.BotName = name;
            counts.Dropped(reason);
        }
    }

    /// <summary>2. Country, region, city, coordinates (resolved with the IP).</summary>
    private sealed class GeoStep : IEnrichmentStep
    {
        public string Name => "geo";

        public void Run(Batch batch, ref BatchCounts counts)
        {
            for (var i = 0; i < batch.Results.Length; i++)
            {
                ref var result = ref batch.Results[i];
                if (!result.IsDropped)
                {
                    result.Geo = result.IpIntel!.Geo;
                }
            }
        }
    }

    /// <summary>3. Browser, OS, device class (resolved with the user agent); bots keep theirs, typed "bot".</summary>
    private sealed class DeviceStep : IEnrichmentStep
    {
        public string Name => "device";

        public void Run(Batch batch, ref BatchCounts counts)
        {
            for (var i = 0; i < batch.Results.Length; i++)
            {
                ref var result = ref batch.Results[i];
                result.Device = result.UserAgentIntel!.Device;
            }
        }
    }

    /// <summary>4. The site's own ranges, else the cached global resolution; queues reverse DNS for a nameless domain.</summary>
    private sealed class CompanyStep(EnrichmentPipeline pipeline) : IEnrichmentStep
    {
        public string Name => "company";

        public void Run(Batch batch, ref BatchCounts counts)
        {
            for (var i = 0; i < batch.Results.Length; i++)
            {
                ref var result = ref batch.Results[i];
                if (result.IsDropped)
                {
                    continue;
                }

                var intel = result.IpIntel!;
                var company = result.Site!.Ranges.Count > 0 && result.Site.Ranges.Find(intel.Address) is { } own ? own : intel.Company;
                result.Company = company;
                if (pipeline.reverseDns is not null && NeedsDomain(company) && intel.ReverseDnsQueued == 0)
                {
                    pipeline.reverseDns.Request(intel);
                }
            }
        }

        private static bool NeedsDomain([NotNullWhen(true)] CompanyMatch? company) =>
            company is { IsBusiness: true, Domain: null } && company.Source != CompanySources.UserRanges;
    }

    /// <summary>6. What is kept of the IP, per site: the full address, its network part, or nothing.</summary>
    private sealed class PrivacyStep : IEnrichmentStep
    {
        public string Name => "privacy";

        public void Run(Batch batch, ref BatchCounts counts)
        {
            for (var i = 0; i < batch.Results.Length; i++)
            {
                ref var result = ref batch.Results[i];
                var intel = result.IpIntel!;
                switch (result.Site!.IpStorage)
                {
                    case IpStorageMode.Full:
                        result.Ip = intel.Full;
                        result.IpText = intel.FullText;
                        break;
                    case IpStorageMode.Truncated:
                        result.Ip = intel.Truncated;
                        result.IpText = intel.TruncatedText;
                        break;
                    default:
                        result.Ip = null;
                        result.IpText = null;
                        break;
                }
            }
        }
    }
}
