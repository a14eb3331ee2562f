using System.Globalization;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.Ingest.Admission;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Kafka;

/// <summary>
/// Back-pressure from the processors' backlog. Every <see cref="BacklogOptions.CheckInterval"/> it reads how far the
/// slowest consumer group is behind on each partition of the events topic (<see cref="GroupOffsets"/>), in bytes as the
/// broker stores them (messages × the producer's own bytes on the wire per message). Past
/// <see cref="BacklogOptions.PublicShare"/> of the bound, public keys are refused; past the bound, every source. A closed
/// gate opens again below 90 % of where it closed, so it does not flap with every check.
/// </summary>
/// <remarks>
/// Why: a broker that keeps less than the backlog drops the oldest unread events, which ingest had already answered 202
/// for. The dev stack's broker keeps 5 MiB per partition; refusing before that turns a silent loss into a 503 the sender
/// retries (events with a messageId are counted once). While the groups' progress cannot be read (the broker is away),
/// the gate stays as it was and says so once: deliveries then fail on their own and answer 503.
/// </remarks>
public sealed class BacklogGate(
    IOptions<BacklogOptions> options,
    IOptions<KafkaProducerOptions> producerOptions,
    KafkaEventSink sink,
    IngestMetrics metrics,
    ILogger<BacklogGate> logger) : BackgroundService
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MetadataRefresh = TimeSpan.FromSeconds(30);
    private const double ReopenBelow = 0.9;

    private volatile BacklogState state = BacklogState.Open;

    /// <summary>Whether events from <paramref name="level"/> must be refused now, with when to retry and why.</summary>
    public bool Refuses(TrustLevel level, out TimeSpan retryAfter, out string detail)
    {
        var current = state;
        var refused = level == TrustLevel.Public ? current.PublicClosed : current.AllClosed;
        retryAfter = current.RetryAfter;
        detail = refused
            ? string.Create(CultureInfo.InvariantCulture,
                $"The processors are {Size(current.WorstBytes)} behind on partition {current.WorstPartition} of the events " +
                $"topic ({(level == TrustLevel.Public ? "public traffic is refused from" : "every source is refused at")} " +
                $"{Size(Limit(level))}, before the broker would drop unread events), so these events are not taken now. " +
                $"Retry after {current.RetryAfter.TotalSeconds:0} s; events with a messageId are counted once however often they arrive.")
            : "";
        return refused;
    }

    private static string Size(long bytes) => bytes >= 1024 * 1024
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024.0:0.0} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0} KiB");

    private long Limit(TrustLevel level) =>
        level == TrustLevel.Public ? PublicLimit(options.Value.MaxBytesPerPartition, options.Value.PublicShare) : options.Value.MaxBytesPerPartition;

    /// <summary>Where public keys are refused: <paramref name="publicShare"/> of the bound.</summary>
    private static long PublicLimit(long maxBytes, double publicShare) => (long)(maxBytes * publicShare);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }

        metrics.ObserveBacklog(() => state.WorstBytes);
        var topic = producerOptions.Value.EventsTopic;
        var groups = settings.Groups;
        logger.BacklogWatched(topic, string.Join(", ", groups), settings.MaxBytesPerPartition, Limit(TrustLevel.Public));
        using var offsets = new GroupOffsets(producerOptions.Value.BootstrapServers, "insights-ingest-backlog",
            message => logger.LogDebug("Kafka: backlog reader: {Message}", message));
        var partitions = 0;
        var metadataAt = DateTime.MinValue;
        long[]? previousCommitted = null;
        var previousAt = DateTime.UtcNow;
        var failing = false;
        using var timer = new PeriodicTimer(settings.CheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                // librdkafka's calls block: off the timer's thread, never on a request's.
                var reading = await Task.Run(() =>
                {
                    if (partitions == 0 || DateTime.UtcNow - metadataAt > MetadataRefresh)
                    {
                        partitions = sink.GetMetadata(RequestTimeout).Topics.SingleOrDefault(t => t.Topic == topic && !t.Error.IsError)?.Partitions.Count ?? 0;
                        metadataAt = DateTime.UtcNow;
                    }

                    var committed = offsets.SlowestCommitted(topic, partitions, groups, RequestTimeout);
                    var watermarks = new WatermarkOffsets[partitions];
                    for (var p = 0; p < partitions; p++)
                    {
                        watermarks[p] = offsets.Watermarks(new TopicPartition(topic, p), groups[0], RequestTimeout);
                    }

                    return (committed, watermarks);
                }, stoppingToken);

                var now = DateTime.UtcNow;
                var next = Next(state, Measure(reading.watermarks, reading.committed, previousCommitted, now - previousAt, sink.WireBytesPerMessage),
                    settings.MaxBytesPerPartition, settings.PublicShare);
                Report(state, next);
                state = next;
                previousCommitted = reading.committed;
                previousAt = now;
                if (failing)
                {
                    logger.BacklogReadable();
                }

                failing = false;
            }
            catch (Exception error) when (error is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A broker away, a request timed out, or anything else: try again next tick. Nothing may escape: an
                // exception out of a hosted service would stop ingest.
                if (!failing)
                {
                    logger.BacklogUnreadable(error.Message);
                }

                failing = true;
            }
        }
    }

    private void Report(BacklogState before, BacklogState after)
    {
        if (after.PublicClosed && !before.PublicClosed)
        {
            logger.BacklogClosing(after.WorstBytes, after.WorstPartition, after.AllClosed ? "every source is" : "public keys are");
        }
        else if (after.AllClosed && !before.AllClosed)
        {
            logger.BacklogClosing(after.WorstBytes, after.WorstPartition, "every source is");
        }
        else if (before.PublicClosed && !after.PublicClosed)
        {
            logger.BacklogOpen(after.WorstBytes);
        }
    }

    /// <summary>
    /// The worst partition's unread bytes and how soon it drains below the bound: per partition, the messages past the
    /// slowest group's committed offset (from the log's start where a group has committed nothing, or where the broker
    /// already dropped what it had not read) times <paramref name="bytesPerMessage"/>; null bytes per message (nothing
    /// produced yet) measures nothing.
    /// </summary>
    internal static BacklogMeasure Measure(IReadOnlyList<WatermarkOffsets> watermarks, long[] committed, long[]? previousCommitted,
        TimeSpan sincePrevious, double? bytesPerMessage)
    {
        if (bytesPerMessage is not { } size || watermarks.Count == 0)
        {
            return new BacklogMeasure(0, -1, 0);
        }

        var (worstLag, worstPartition, drained) = (0L, -1, 0.0);
        for (var p = 0; p < watermarks.Count && p < committed.Length; p++)
        {
            var read = Math.Max(committed[p], watermarks[p].Low.Value);
            var lag = Math.Max(0, watermarks[p].High.Value - read);
            if (lag > worstLag)
            {
                worstLag = lag;
                worstPartition = p;
                drained = previousCommitted is not null && p < previousCommitted.Length && previousCommitted[p] >= 0 && sincePrevious > TimeSpan.Zero
                    ? Math.Max(0, committed[p] - previousCommitted[p]) / sincePrevious.TotalSeconds
                    : 0;
            }
        }

        return new BacklogMeasure((long)(worstLag * size), worstPartition, drained * size);
    }

    /// <summary>The gate after <paramref name="measure"/>: closes at a bound, opens below <see cref="ReopenBelow"/> of it.</summary>
    internal static BacklogState Next(BacklogState before, BacklogMeasure measure, long maxBytes, double publicShare)
    {
        var publicLimit = PublicLimit(maxBytes, publicShare);
        var publicClosed = measure.WorstBytes >= publicLimit || (before.PublicClosed && measure.WorstBytes >= publicLimit * ReopenBelow);
        var allClosed = measure.WorstBytes >= maxBytes || (before.AllClosed && measure.WorstBytes >= maxBytes * ReopenBelow);

        // When the worst partition will be back under the public gate's reopening point at the rate it drained since the
        // last check; 5 s while nothing drained (the processors are stopped or just started), never more than a minute.
        var excess = measure.WorstBytes - publicLimit * ReopenBelow;
        var seconds = excess <= 0 ? 1 : measure.DrainedBytesPerSecond > 0 ? Math.Ceiling(excess / measure.DrainedBytesPerSecond) : 5;
        return new BacklogState(publicClosed, allClosed, measure.WorstBytes, measure.WorstPartition, TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 60)));
    }
}

/// <summary>The worst partition's estimated unread bytes, which partition it is (-1: none behind), and how fast it drained.</summary>
internal readonly record struct BacklogMeasure(long WorstBytes, int WorstPartition, double DrainedBytesPerSecond);

/// <summary>What the gate answers until the next check.</summary>
internal sealed record BacklogState(bool PublicClosed, bool AllClosed, long WorstBytes, int WorstPartition, TimeSpan RetryAfter)
{
    public static readonly BacklogState Open = new(false, false, 0, -1, TimeSpan.FromSeconds(1));
}
