using BenchmarkDotNet.Attributes;
using Insights.Contracts;
using Insights.Enrichment;
using Insights.Processors;
using Insights.Processors.Sessions;
using Microsoft.Extensions.Options;

namespace Insights.Benchmarks;

/// <summary>
/// The processors' per-batch session work (CPU only; the ClickHouse look-up of unknown visitors is I/O, measured by
/// the insights.processors.sessions.lookup.duration histogram): a 10,000-event batch folded into sessions, against
/// the floor of laying the same events out as rows. Events/s per core = 10,000 / mean.
/// </summary>
/// <remarks>
/// Warm: 2,000 visitors whose sessions are in memory (the steady state: five events each per batch). Cold: every
/// visitor unknown (a partition just assigned, or all-new visitors), so each is planned, absorbed from an empty
/// look-up and created. The batches cycle through 20 prepared ones with growing offsets, so no event looks like a
/// replay or a duplicate delivery.
/// </remarks>
[MemoryDiagnoser]
public class SessionBenchmarks
{
    private const int BatchSize = 10_000;
    private const int Batches = 20;
    private const int Visitors = 2_000;

    private readonly List<SessionInput>[] batches = new List<SessionInput>[Batches];
    private readonly object[][] baseRows = new object[BatchSize][];
    private Sessionizer warm = null!;
    private Sessionizer cold = null!;
    private long offset;
    private int next;

    [GlobalSetup]
    public void Setup()
    {
        var start = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);
        var company = new CompanyMatch("Alberta Health Services", null, CompanySources.AsnCsv, 0.5f, true, NetworkKinds.Business, 16623);
        var office = new VisitAttributes(new GeoLocation("CA", "Alberta", "Edmonton", 53.5, -113.5),
            new DeviceInfo("Chrome", 131, "Windows", "10", DeviceTypes.Desktop), company, CompanyIds.Of(company));
        var home = office with { Network = new CompanyMatch("Comcast", null, CompanySources.AsnCsv, 0.5f, false, NetworkKinds.ConsumerIsp, 7922), CompanyId = "" };
        string[] paths = ["/", "/pricing", "/features", "/blog/post-1", "/contact", "/docs/start", "/pricing/enterprise"];
        for (var b = 0; b < Batches; b++)
        {
            var inputs = new List<SessionInput>(BatchSize);
            for (var i = 0; i < BatchSize; i++)
            {
                var at = start.AddSeconds(b * 10 + i / 1_000.0);
                var path = paths[(i / Visitors + b) % paths.Length];
                var e = new PipelineEvent
                {
                    EventId = $"b{b}-e{i}-{Guid.NewGuid():N}",
                    Type = EventTypes.Pageview,
                    SiteId = "demo",
                    AnonymousId = $"visitor-{i % Visitors:D5}",
                    Timestamp = at,
                    ReceivedAt = at.AddMilliseconds(50),
                    Url = "https://shop.example.com" + path + (i % 7 == 0 ? "?utm_source=newsletter&utm_medium=email" : ""),
                    Referrer = i % 3 == 0 ? "https://www.google.com/" : null,
                    Ip = "139.48.1.1",
                };
                inputs.Add(new SessionInput(i, i % 12, 0, e, path, i % 2 == 0 ? office : home));
                if (b == 0)
                {
                    baseRows[i] = EventRowMapper.ToRow(e);
                }
            }

            batches[b] = inputs;
        }

        warm = NewSessionizer();
        cold = NewSessionizer();
        Fold(warm, forget: false);
    }

    [Benchmark(Baseline = true, Description = "rows only: EnrichedRowMapper.ToRow x10k (floor)")]
    public int RowsOnly()
    {
        var ipv6 = new Dictionary<System.Net.IPAddress, System.Net.IPAddress>();
        var batch = batches[0];
        var total = 0;
        for (var i = 0; i < BatchSize; i++)
        {
            total += EnrichedRowMapper.ToRow(baseRows[i], default, batch[i].Attributes, "0123456789abcdef0123456789abcdef", ipv6).Length;
        }

        return total;
    }

    [Benchmark(Description = "sessions, warm: plan + fold + commit x10k events, 2,000 visitors in memory")]
    public int FoldWarm() => Fold(warm, forget: false);

    [Benchmark(Description = "sessions, cold: every visitor planned, absorbed (empty look-up) and opened")]
    public int FoldCold() => Fold(cold, forget: true);

    private int Fold(Sessionizer sessionizer, bool forget)
    {
        if (forget)
        {
            sessionizer.Forget(Enumerable.Range(0, 12));
        }

        var source = batches[next++ % Batches];
        var inputs = new List<SessionInput>(source.Count);
        foreach (var input in source)
        {
            inputs.Add(input with { Offset = offset++ });
        }

        var result = PlanAndFold(sessionizer, inputs);
        var rows = 0;
        foreach (var session in result.Changed)
        {
            rows += session.ToRow().Length;
        }

        sessionizer.Commit(result);
        return rows;
    }

    /// <summary>
    /// What the sessions' memory holds per 100,000 visitors, on the GC heap after a full collection: visitors with one
    /// page view, and visitors with 40 (their record of recent event ids full), folded in 10,000-event batches as the
    /// processors do. The events are dropped batch by batch, so what remains is what memory keeps.
    /// </summary>
    [GlobalCleanup]
    public void Retained()
    {
        const int Measured = 20_000;
        var start = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);
        var attributes = batches[0][0].Attributes;
        foreach (var perVisitor in (int[])[1, 40])
        {
            var before = GC.GetTotalMemory(forceFullCollection: true);
            var sessionizer = new Sessionizer(Options.Create(new SessionizerOptions { MaxMemoryBytes = 16L << 30 }), TimeProvider.System);
            long at = 0;
            for (var first = 0; first < Measured * perVisitor; first += BatchSize)
            {
                var inputs = new List<SessionInput>(BatchSize);
                for (var i = first; i < Math.Min(first + BatchSize, Measured * perVisitor); i++)
                {
                    // The visitor's (i / Measured)-th page view, 10 s after the one before.
                    var (visitor, step) = (i % Measured, i / Measured);
                    var path = $"/page-{step % 7}";
                    var e = new PipelineEvent
                    {
                        EventId = Guid.NewGuid().ToString(),
                        Type = EventTypes.Pageview,
                        SiteId = "demo",
                        AnonymousId = $"visitor-{visitor:D8}",
                        Timestamp = start.AddSeconds(10 * step),
                        ReceivedAt = start.AddSeconds(10 * step),
                        Url = "https://shop.example.com" + path,
                    };
                    inputs.Add(new SessionInput(i - first, visitor % 12, at++, e, path, attributes));
                }

                sessionizer.Commit(PlanAndFold(sessionizer, inputs));
            }

            var after = GC.GetTotalMemory(forceFullCollection: true);
            var scale = 100_000.0 / Measured / 1024 / 1024;
            Console.WriteLine($"// sessions' memory, visitors with {perVisitor} page view(s): {(after - before) * scale:F1} MiB per 100,000 on the GC heap, " +
                $"{sessionizer.BytesInMemory * scale:F1} MiB counted by Sessions:MaxMemoryBytes ({sessionizer.VisitorsInMemory:N0} held)");
            GC.KeepAlive(sessionizer);
        }
    }

    // Every visitor the sessionizer asks about is unknown to ClickHouse (an empty look-up), as in a fresh system.
    private static FoldResult PlanAndFold(Sessionizer sessionizer, List<SessionInput> inputs)
    {
        foreach (var need in sessionizer.Plan(inputs))
        {
            sessionizer.Absorb(need, []);
        }

        return sessionizer.Fold(inputs, inputs.Count);
    }

    private static Sessionizer NewSessionizer() => new(Options.Create(new SessionizerOptions()), TimeProvider.System);
}
