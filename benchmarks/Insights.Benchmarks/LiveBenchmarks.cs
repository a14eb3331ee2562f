using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Insights.Contracts;
using Insights.Enrichment;
using Insights.Processors;
using Insights.Processors.Sessions;
using Insights.QueryApi.Companies;
using Insights.QueryApi.Live;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Insights.Benchmarks;

/// <summary>
/// The cost of the live path per event: encoding an <c>insights.enriched</c> event (<see cref="EnrichedMessage"/>, event
/// version 1) alone and into the 32 KiB bundles the processors now publish (<see cref="LiveEventBundle"/>, message schema
/// insights.live.v2), against the envelope the topic carried before (<see cref="EventCodec"/>), and applying
/// 100,000 visitors' page views to presence. The retained presence memory per 100,000 visitors is printed by the
/// global cleanup (GC heap after a full collection, and what the board's budget counted).
/// </summary>
[MemoryDiagnoser]
public class LiveBenchmarks
{
    private const int Visitors = 100_000;
    private const int BundledEvents = 1_000;

    private PipelineEvent pageview = null!;
    private EnrichedEvent enriched;
    private Session session = null!;
    private LiveEvent[] views = null!;
    private byte[][] messages = null!;
    private IMeterFactory meters = null!;

    /// <summary>The setup's encoded events: one page view per visitor, as the processors write them.</summary>
    internal IReadOnlyList<byte[]> Messages => messages;

    [GlobalSetup]
    public void Setup()
    {
        var at = new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);
        pageview = new PipelineEvent
        {
            EventId = "0b5e6f1c-5d43-4c1e-9e0a-3f1d2a7c9b10", Type = EventTypes.Pageview, SiteId = "demo", AnonymousId = "k3j5h2l1m9n8b7v6c5x4",
            Timestamp = at, ReceivedAt = at.AddMilliseconds(40), Ip = "139.48.1.1",
            UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            Url = "https://shop.example.com/pricing/enterprise?utm_source=google&utm_medium=cpc&utm_campaign=spring",
            Referrer = "https://www.google.com/", Title = "Enterprise pricing — Shop", Locale = "en-CA", ScreenWidth = 1920, ScreenHeight = 1080,
            UtmSource = "google", UtmMedium = "cpc", UtmCampaign = "spring", Source = "tracker",
        };
        enriched = Office();
        session = new Session
        {
            Id = Session.IdFor("demo", pageview.AnonymousId!, pageview.EventId), Site = "demo", Visitor = pageview.AnonymousId!,
            StartedAt = at.UtcDateTime, PageViews = 3, Channel = "paid", LandingReferrer = "https://www.google.com/",
            UtmSource = "google", UtmMedium = "cpc", UtmCampaign = "spring",
        };
        meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var now = DateTimeOffset.UtcNow;
        // Decoded from the wire, as presence gets them: every visitor's strings are its own, as in production.
        messages = [.. Enumerable.Range(0, Visitors).Select(i => EnrichedMessage.Encode(pageview with
        {
            EventId = $"e{i}", AnonymousId = $"visitor-{i:D8}-{i * 7919 % 100_000:D5}", Timestamp = now, ReceivedAt = now,
        }, enriched, "/pricing/enterprise", session))];
        views = [.. messages.Select(m => LiveEventCodec.Decode(m).Event!)];
        Console.WriteLine($"// insights.enriched event: {EnrichedMessage.Encode(pageview, enriched, "/pricing/enterprise", session).Length} bytes (v1), " +
            $"{EventCodec.Encode(pageview).Length} bytes (the envelope before)");
    }

    [Benchmark(Baseline = true, Description = "envelope encode (the topic before v1)")]
    public byte[] EnvelopeEncode() => EventCodec.Encode(pageview);

    [Benchmark(Description = "live event v1 encode (EnrichedMessage)")]
    public byte[] LiveEncode() => EnrichedMessage.Encode(pageview, enriched, "/pricing/enterprise", session);

    /// <summary>What the processors do now: the same event built and written into 32 KiB bundles, one per line
    /// (schema insights.live.v2), per event; the bundles' arrays included.</summary>
    [Benchmark(OperationsPerInvoke = BundledEvents, Description = "live events into 32 KiB bundles (per event)")]
    public int LiveBundle()
    {
        var bundle = new LiveEventBundle(32 * 1024);
        var messages = 0;
        for (var i = 0; i < BundledEvents; i++)
        {
            if (bundle.Add(EnrichedMessage.ToLiveEvent(pageview, enriched, "/pricing/enterprise", session)) is not null)
            {
                messages++;
            }
        }

        return bundle.Complete() is null ? messages : messages + 1;
    }

    [Benchmark(OperationsPerInvoke = Visitors, Description = "presence: 100,000 visitors join, nobody watching the site (per event)")]
    public PresenceBoard PresenceJoin()
    {
        var board = NewBoard();
        foreach (var view in views)
        {
            board.Apply(view);
        }

        return board;
    }

    [Benchmark(OperationsPerInvoke = Visitors, Description = "presence: 100,000 visitors join, a stream following the site (per event)")]
    public PresenceBoard PresenceJoinWatched()
    {
        var board = NewBoard();
        // Its changes are kept in the ring, each with its copy of the visitor, as for a site someone has open.
        board.Site(views[0].SiteId).Follow();
        foreach (var view in views)
        {
            board.Apply(view);
        }

        return board;
    }

    [GlobalCleanup]
    public void Retained()
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        // Decoded here, as the consumer does: the strings a visitor keeps are then counted with it.
        var board = NewBoard();
        foreach (var message in messages)
        {
            board.Apply(LiveEventCodec.Decode(message).Event!, publish: false);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"// presence of {Visitors:N0} visitors: {(after - before) / 1024.0 / 1024.0:F1} MiB on the GC heap, " +
            $"{board.Budget.HeldBytes / 1024.0 / 1024.0:F1} MiB counted by Live:MaxBytes ({board.VisitorCount:N0} present)");
        GC.KeepAlive(board);
    }

    // What enrichment finds for an office network under the default (truncated) privacy mode. Its setters belong to
    // the enrichment, so the setup sets them the way a test double would: once, outside the measured code.
    private static EnrichedEvent Office()
    {
        object boxed = default(EnrichedEvent);
        void Set(string name, object value) => typeof(EnrichedEvent).GetProperty(name)!.SetValue(boxed, value);
        Set(nameof(EnrichedEvent.Geo), new GeoLocation("CA", "Alberta", "Edmonton", 53.5, -113.5));
        Set(nameof(EnrichedEvent.Device), new DeviceInfo("Chrome", 131, "Windows", "10", DeviceTypes.Desktop));
        Set(nameof(EnrichedEvent.Company), new CompanyMatch("Alberta Health Services", "albertahealthservices.ca", CompanySources.AsnCsv, 0.5f, true, NetworkKinds.Business, 16623));
        Set(nameof(EnrichedEvent.IpText), "139.48.1.0");
        return (EnrichedEvent)boxed;
    }

    private PresenceBoard NewBoard() => new(Options.Create(new LiveOptions { MaxBytes = 4L * 1024 * 1024 * 1024 }),
        Options.Create(new LeadScoreOptions()), TimeProvider.System, new LiveMetrics(meters));
}

/// <summary>
/// Decoding an <c>insights.enriched</c> event, which every query API instance does for every event of every site: the
/// hand-written reader (<see cref="LiveEventCodec.Decode"/>) against the source-generated contract it replaced on the
/// read path (baseline). 10,000 page views of an office visitor with their visit, campaign, company, place and device,
/// as the processors write them.
/// </summary>
[MemoryDiagnoser]
public class LiveDecodeBenchmarks
{
    private byte[][] lines = [];

    [GlobalSetup]
    public void Setup()
    {
        var live = new LiveBenchmarks();
        live.Setup();
        lines = [.. live.Messages.Take(10_000)];
    }

    [Benchmark(Baseline = true, Description = "generated contract x10,000")]
    public int Generated()
    {
        var n = 0;
        foreach (var line in lines)
        {
            n += System.Text.Json.JsonSerializer.Deserialize(line, LiveEventJson.Default.LiveEvent) is null ? 0 : 1;
        }

        return n;
    }

    [Benchmark(Description = "LiveEventCodec.Decode x10,000")]
    public int Decode()
    {
        var n = 0;
        foreach (var line in lines)
        {
            n += LiveEventCodec.Decode(line).Event is null ? 0 : 1;
        }

        return n;
    }
}
