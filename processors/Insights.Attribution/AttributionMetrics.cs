using System.Diagnostics.Metrics;
using Insights.Processors.Consuming;
using Insights.ServiceDefaults;

namespace Insights.Attribution;

/// <summary>Meter <c>Insights.Attribution</c>: per-event and per-row outcomes as counters, never as log lines.</summary>
public sealed class AttributionMetrics
{
    public static readonly string MeterName = InsightsTelemetry.NameFor("Attribution");

    private readonly Counter<long> skipped;
    private readonly Counter<long> rows;
    private readonly Counter<long> truncated;
    private readonly Histogram<double> batchDuration;
    private readonly Histogram<int> loadedNodes;

    public AttributionMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        Stages = new StageDurations(meter, "insights.attribution",
            "Time per batch in each step of attribution (prepare, load, compute, write): divided by the events, the cost of a step per event.");
        skipped = meter.CreateCounter<long>("insights.attribution.events.skipped", "{event}",
            "Events left out of attribution, by reason (missing_chat_id, missing_order_id, invalid_amount, invalid_currency).");
        rows = meter.CreateCounter<long>("insights.attribution.rows.written", "{row}", "Rows written, by table (replays and recomputations included).");
        truncated = meter.CreateCounter<long>("insights.attribution.components.truncated", "{batch}",
            "Batches in which a component was cut at Attribution:MaxComponentNodes or MaxLoadRounds while loading.");
        batchDuration = meter.CreateHistogram("insights.attribution.batch.duration", "s", "Load, compute and write time per batch.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        loadedNodes = meter.CreateHistogram("insights.attribution.load.nodes", "{node}", "Graph nodes loaded per batch.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [0, 10, 100, 1_000, 10_000, 100_000] });
    }

    /// <summary>The steps' times. Attribution runs inside the processors' batches, so their consumer group's instruments
    /// (consumed, lag, failures, dead letters) cover it.</summary>
    public StageDurations Stages { get; }

    public void Skipped(string reason, int count = 1) => skipped.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void Written(string table, int count) => rows.Add(count, new KeyValuePair<string, object?>("table", table));

    public void Truncated() => truncated.Add(1);

    public void Batch(TimeSpan elapsed, int nodes)
    {
        batchDuration.Record(elapsed.TotalSeconds);
        loadedNodes.Record(nodes);
    }
}
