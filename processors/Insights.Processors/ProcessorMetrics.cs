using System.Diagnostics.Metrics;
using Insights.Processors.Consuming;
using Insights.ServiceDefaults;

namespace Insights.Processors;

/// <summary>
/// Meter <c>Insights.Processors</c>. Per-event outcomes are counted here, never logged one by one. In Prometheus
/// the dots become underscores and counters gain <c>_total</c>: <c>insights_processors_events_consumed_total</c>.
/// </summary>
public sealed class ProcessorMetrics
{
    public static readonly string MeterName = InsightsTelemetry.NameFor("Processors");

    private readonly Counter<long> inserted;
    private readonly Counter<long> enrichedFailed;
    private readonly Histogram<double> insertDuration;
    private readonly Counter<long> sessionsStarted;
    private readonly Counter<long> sessionsWritten;
    private readonly Counter<long> eventsReplayed;
    private readonly Counter<long> sessionLookups;
    private readonly Histogram<double> sessionLookupDuration;
    private readonly Counter<long> quartersRolled;
    private long visitorsInMemory;

    public ProcessorMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        Consumer = new ConsumerMetrics(meterFactory, MeterName, "insights.processors");
        inserted = meter.CreateCounter<long>("insights.processors.events.inserted", "{event}", "Events written to ClickHouse (replays included).");
        enrichedFailed = meter.CreateCounter<long>("insights.processors.enriched.failed", "{message}",
            "Messages (bundles of a batch's live events) that could not be republished to the enriched topic.");
        insertDuration = meter.CreateHistogram("insights.processors.insert.duration", "s", "ClickHouse insert latency per batch.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        sessionsStarted = meter.CreateCounter<long>("insights.processors.sessions.started", "{session}", "Sessions opened (replays of a batch included).");
        sessionsWritten = meter.CreateCounter<long>("insights.processors.sessions.written", "{session}", "Session rows written: every session a batch changed.");
        eventsReplayed = meter.CreateCounter<long>("insights.processors.events.replayed", "{event}",
            "Visitor events read again after a crash or rebalance and skipped: ClickHouse already holds them and their sessions.");
        sessionLookups = meter.CreateCounter<long>("insights.processors.sessions.lookups", "{visitor}",
            "Visitors whose sessions were read from ClickHouse (new partition, evicted from memory, or a late event).");
        sessionLookupDuration = meter.CreateHistogram("insights.processors.sessions.lookup.duration", "s", "Time to read a batch's visitors' sessions from ClickHouse.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        quartersRolled = meter.CreateCounter<long>("insights.processors.stats.quarters_rolled", "{quarter}",
            "Quarter hours of a site rolled up for the stats report (settled; again after a late event or a replay).");
        meter.CreateObservableGauge("insights.processors.sessions.visitors_in_memory", () => Volatile.Read(ref visitorsInMemory), "{visitor}",
            "Visitors whose latest session the processor holds in memory.");
    }

    /// <summary>The consumer loop's instruments: consumed, batch size, lag, outage failures and back-off, splits and
    /// dead letters by reason and stage.</summary>
    public ConsumerMetrics Consumer { get; }

    public void Inserted(int count) => inserted.Add(count);

    public void EnrichedFailed() => enrichedFailed.Add(1);

    public void InsertDuration(TimeSpan elapsed) => insertDuration.Record(elapsed.TotalSeconds);

    public void Sessionized(int started, int replayed)
    {
        sessionsStarted.Add(started);
        eventsReplayed.Add(replayed);
    }

    public void SessionsInserted(int count) => sessionsWritten.Add(count);

    public void SessionLookups(int visitors, TimeSpan elapsed)
    {
        sessionLookups.Add(visitors);
        sessionLookupDuration.Record(elapsed.TotalSeconds);
    }

    public void QuartersRolled(int count) => quartersRolled.Add(count);

    public void VisitorsInMemory(int count) => Volatile.Write(ref visitorsInMemory, count);
}
