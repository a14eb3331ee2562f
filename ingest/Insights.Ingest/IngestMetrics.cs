using System.Diagnostics.Metrics;
using Insights.ServiceDefaults;

namespace Insights.Ingest;

/// <summary>
/// The ingest meter, <c>Insights.Ingest</c> (exported by the service defaults). Per-event outcomes are counted
/// here instead of logged: a rejected event is a counter increment, never a log line.
/// </summary>
public sealed class IngestMetrics
{
    public static readonly string MeterName = InsightsTelemetry.NameFor("Ingest");

    // Seconds from 1 ms to 10 s: the OpenTelemetry defaults are milliseconds-shaped and would put every request in one bucket.
    private static readonly InstrumentAdvice<double> SecondsAdvice = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    private readonly Counter<long> accepted;
    private readonly Counter<long> rejected;
    private readonly Histogram<double> requestDuration;
    private readonly Histogram<double> deliveryDuration;
    private readonly Histogram<int> batchSize;
    private Func<int>? queueDepth;
    private Func<long>? backlogBytes;

    public IngestMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        accepted = meter.CreateCounter<long>("insights.ingest.events.accepted", "{event}",
            "Events acknowledged by Kafka and answered with 202.");
        rejected = meter.CreateCounter<long>("insights.ingest.events.rejected", "{event}",
            "Events not accepted, by reason (invalid, rate_limited, kafka_unavailable, ...).");
        requestDuration = meter.CreateHistogram("insights.ingest.request.duration", "s",
            "Time to answer POST /v1/events, by outcome (accepted or the refusal reason).", advice: SecondsAdvice);
        deliveryDuration = meter.CreateHistogram("insights.ingest.delivery.duration", "s",
            "Time from producing a request's events until Kafka acknowledged all of them.", advice: SecondsAdvice);
        batchSize = meter.CreateHistogram("insights.ingest.request.events", "{event}",
            "Events per accepted request.", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500] });
        meter.CreateObservableGauge("insights.ingest.producer.queue_depth", () => queueDepth?.Invoke() ?? 0, "{message}",
            "Messages handed to the Kafka producer and not yet acknowledged.");
        meter.CreateObservableGauge("insights.ingest.backlog", () => backlogBytes?.Invoke() ?? 0, "By",
            "Estimated bytes of events the slowest consumer group has not read, on the partition furthest behind (Ingest:Backlog).");
    }

    /// <summary>Where the queue-depth gauge reads from (the producer registers itself).</summary>
    public void ObserveQueueDepth(Func<int> depth) => queueDepth = depth;

    /// <summary>Where the backlog gauge reads from (the back-pressure gate registers itself when it is on).</summary>
    public void ObserveBacklog(Func<long> bytes) => backlogBytes = bytes;

    public void Accepted(int events)
    {
        accepted.Add(events);
        batchSize.Record(events);
    }

    public void Rejected(string reason, int events = 1) => rejected.Add(events, new KeyValuePair<string, object?>("reason", reason));

    public void RequestCompleted(string outcome, TimeSpan elapsed) =>
        requestDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));

    public void Delivered(TimeSpan elapsed) => deliveryDuration.Record(elapsed.TotalSeconds);
}
