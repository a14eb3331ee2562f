using System.Diagnostics.Metrics;

namespace Insights.QueryApi.Live;

/// <summary>Presence's instruments (meter <c>Insights.QueryApi</c>, prefix <c>insights.queryapi.live</c>).</summary>
public sealed class LiveMetrics
{
    private readonly Meter meter;
    private readonly Counter<long> consumed;
    private readonly Counter<long> skipped;
    private readonly Counter<long> left;
    private long skippedTotal;

    public LiveMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        meter = meterFactory.Create(QueryApiMetrics.MeterName);
        consumed = meter.CreateCounter<long>("insights.queryapi.live.consumed", "{event}",
            "Events read from the enriched topic and applied to presence (a message holds one or more).");
        skipped = meter.CreateCounter<long>("insights.queryapi.live.skipped", "{event}",
            "Events presence did not apply, by reason (oversized and empty messages count once; undecodable, unknown_version, " +
            "schema_invalid, no_visitor, stale, duplicate).");
        left = meter.CreateCounter<long>("insights.queryapi.live.left", "{visitor}", "Visitors who left presence, by reason (idle, memory).");
    }

    /// <summary>Events (or whole messages, oversized or empty) skipped since start, whatever the reason.</summary>
    public long SkippedTotal => Interlocked.Read(ref skippedTotal);

    public void Consumed() => consumed.Add(1);

    public void Skipped(string reason)
    {
        Interlocked.Increment(ref skippedTotal);
        skipped.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    public void Left(string reason) => left.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void Observe(PresenceBoard board)
    {
        meter.CreateObservableGauge("insights.queryapi.live.visitors", () => board.VisitorCount, "{visitor}", "Visitors present now, over all sites.");
        meter.CreateObservableGauge("insights.queryapi.live.memory", () => board.Budget.HeldBytes, "By",
            "Estimated bytes of presence state; kept under Live:MaxBytes.");
    }
}
