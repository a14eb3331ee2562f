using System.Diagnostics.Metrics;

namespace Insights.Processors.Consuming;

/// <summary>
/// A consumer loop's instruments, on its group's meter and under its prefix (<c>insights.processors</c>): the same names
/// for every group a host would run. In Prometheus: <c>insights_processors_events_dead_lettered_total{reason,stage}</c>.
/// </summary>
public sealed class ConsumerMetrics
{
    private readonly Counter<long> consumed;
    private readonly Counter<long> deadLettered;
    private readonly Counter<long> failures;
    private readonly Counter<long> splits;
    private readonly Counter<long> offsetResets;
    private readonly Histogram<int> batchSize;
    private readonly StageDurations stages;
    private long lag;
    private double backoffSeconds;

    public ConsumerMetrics(IMeterFactory meterFactory, string meterName, string prefix)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(meterName);
        consumed = meter.CreateCounter<long>(prefix + ".events.consumed", "{event}", "Messages read from the events topic.");
        deadLettered = meter.CreateCounter<long>(prefix + ".events.dead_lettered", "{event}",
            "Messages sent to the dead-letter topic, by reason and stage (the step that refused them).");
        deadLettered.Add(0); // exported at 0 from the start, like the failures below: an alert on it sees the series before the first dead letter
        failures = meter.CreateCounter<long>(prefix + ".clickhouse.failures", "{attempt}",
            "Batch attempts that failed on an outage (ClickHouse or Kafka) and will be retried after a back-off.");
        failures.Add(0); // exported at 0 from the start: dashboards and alerts see the series before the first failure
        splits = meter.CreateCounter<long>(prefix + ".batch.splits", "{split}",
            "Batches halved because they failed for a reason that is not an outage, to isolate the refused messages.");
        offsetResets = meter.CreateCounter<long>(prefix + ".offsets.skipped", "{reset}",
            "Times a partition's next messages were gone from Kafka (offset out of range) and the group skipped ahead: " +
            "messages lost unread, because the group fell further behind than the topic keeps.");
        offsetResets.Add(0); // exported at 0 from the start: an alert on any increase sees the series before the first loss
        batchSize = meter.CreateHistogram(prefix + ".batch.size", "{event}", "Messages per batch.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 10, 100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000] });
        stages = new StageDurations(meter, prefix,
            "Time per batch in each step of the group's handler (decode, enrich, sessions, inserts, ...): divided by the events consumed, the cost of a step per event.");
        meter.CreateObservableGauge(prefix + ".consumer.lag", () => Volatile.Read(ref lag), "{message}",
            "Messages on the assigned partitions not yet stored (high watermark minus stored offset).");
        meter.CreateObservableGauge(prefix + ".clickhouse.backoff", () => Volatile.Read(ref backoffSeconds), "s",
            "Current back-off before the next attempt; 0 while the batch's dependencies answer.");
    }

    internal void Consumed(int count)
    {
        consumed.Add(count);
        batchSize.Record(count);
    }

    /// <summary>Starts timing a step of a batch; <see cref="StageTimer.Stop"/> (or the next <see cref="StageTimer.Next"/>) records it.</summary>
    public StageTimer Time(string stage) => stages.Time(stage);

    internal void DeadLettered(string reason, string stage) =>
        deadLettered.Add(1, new KeyValuePair<string, object?>("reason", reason), new KeyValuePair<string, object?>("stage", stage));

    internal void Split() => splits.Add(1);

    internal void OffsetSkipped() => offsetResets.Add(1);

    internal void Failed(TimeSpan backoff)
    {
        failures.Add(1);
        Volatile.Write(ref backoffSeconds, backoff.TotalSeconds);
    }

    internal void Recovered() => Volatile.Write(ref backoffSeconds, 0);

    internal void Lag(long messages) => Volatile.Write(ref lag, messages);
}

/// <summary>
/// A histogram <c>&lt;prefix&gt;.stage.duration</c> of the time per batch in each named step: the consumer loops' handlers
/// time theirs with it, and so does a step that runs inside another group's batch (attribution in the processors').
/// </summary>
public sealed class StageDurations(Meter meter, string prefix, string description)
{
    private readonly Histogram<double> duration = meter.CreateHistogram(prefix + ".stage.duration", "s", description,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    /// <summary>Starts timing a step of a batch; <see cref="StageTimer.Stop"/> (or the next <see cref="StageTimer.Next"/>) records it.</summary>
    public StageTimer Time(string stage) => new(this, stage);

    internal void Record(string stage, TimeSpan elapsed) => duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("stage", stage));
}

/// <summary>Times the steps of one batch one after the other, each recorded under its name in <c>stage.duration</c>.</summary>
public struct StageTimer
{
    private readonly StageDurations metrics;
    private string stage;
    private long started;

    internal StageTimer(StageDurations metrics, string stage)
    {
        this.metrics = metrics;
        this.stage = stage;
        started = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <summary>Records the current step and starts timing <paramref name="nextStage"/>.</summary>
    public void Next(string nextStage)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        metrics.Record(stage, System.Diagnostics.Stopwatch.GetElapsedTime(started, now));
        stage = nextStage;
        started = now;
    }

    /// <summary>Records the current step.</summary>
    public readonly void Stop() => metrics.Record(stage, System.Diagnostics.Stopwatch.GetElapsedTime(started));
}
