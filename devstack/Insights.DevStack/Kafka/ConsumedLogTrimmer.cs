using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.DevStack.Kafka;

/// <summary>
/// Keeps the mock broker's logs short: deletes, every <see cref="KafkaStackOptions.TrimIntervalMs"/>, the records of
/// each topic in <see cref="KafkaStackOptions.ConsumedBy"/> that lie more than <see cref="KafkaStackOptions.KeepConsumed"/>
/// messages behind the slowest of its consumer groups (why: <see cref="KafkaStackOptions.ConsumedBy"/>).
/// </summary>
/// <remarks>
/// It asks the broker over its own protocol (<see cref="GroupOffsets"/>): each group's committed offsets and each
/// partition's start. A partition is trimmed only when every group named has committed it and the new start is past the
/// current one. The second condition matters: the mock moves a log's start to whatever it is told, even backwards, and
/// its own 5 MiB limit may have moved the start past a lagging group's offset.
/// </remarks>
public sealed class ConsumedLogTrimmer(MockKafkaCluster cluster, KafkaStackOptions options, ILogger<ConsumedLogTrimmer> logger)
    : BackgroundService
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly IReadOnlyList<(string Topic, int Partitions, string[] Groups)> _trimmed = options.Trimmed();
    private GroupOffsets? _offsets;
    private bool _failing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var topic in options.ConsumedBy.Where(t => !string.IsNullOrWhiteSpace(t.Value) && !options.Topics.ContainsKey(t.Key)).Select(t => t.Key))
            logger.LogWarning("Kafka: {Topic} is not trimmed: Kafka:ConsumedBy names it, but Kafka:Topics does not create it", topic);
        if (_trimmed.Count == 0) return;
        foreach (var (topic, _, groups) in _trimmed)
        {
            logger.LogInformation(
                "Kafka: {Topic} keeps {Keep} messages per partition behind the slowest of {Groups}; older ones are deleted every {Interval} ms",
                topic, options.KeepConsumed, string.Join(", ", groups), options.TrimIntervalMs);
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.TrimIntervalMs));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await TrimAsync(stoppingToken);
                if (_failing) logger.LogInformation("Kafka: trimming consumed records works again");
                _failing = false;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                if (stoppingToken.IsCancellationRequested) return; // the cluster is going away with the process
                // A broker set down by a test's fault injection, or a request that timed out: try again next tick. Never
                // anything else: an exception out of a hosted service would stop the dev stack.
                if (!_failing) logger.LogWarning("Kafka: could not trim consumed records ({Message}); retrying every {Interval} ms", e.Message, options.TrimIntervalMs);
                _failing = true;
            }
        }
    }

    /// <summary>One round over every trimmed topic; returns the partitions it trimmed and where each now starts.</summary>
    public Task<IReadOnlyList<TopicPartitionOffset>> TrimAsync(CancellationToken cancellationToken) =>
        Task.Run(() => Trim(cancellationToken), cancellationToken); // librdkafka's calls below block

    private IReadOnlyList<TopicPartitionOffset> Trim(CancellationToken cancellationToken)
    {
        var trimmed = new List<TopicPartitionOffset>();
        foreach (var (topic, partitionCount, groups) in _trimmed)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var partitions = Enumerable.Range(0, partitionCount).Select(p => new TopicPartition(topic, p)).ToList();

            // The slowest group's committed offset per partition; a partition missing from any group is not trimmed.
            var slowest = Offsets.SlowestCommitted(topic, partitionCount, groups, RequestTimeout);
            foreach (var partition in partitions.Where(p => slowest[p.Partition.Value] - options.KeepConsumed > 0))
            {
                var before = slowest[partition.Partition.Value] - options.KeepConsumed;
                var start = Offsets.Watermarks(partition, groups[0], RequestTimeout).Low;
                if (before <= start.Value) continue;
                cluster.DeleteRecords(topic, partition.Partition.Value, before);
                trimmed.Add(new TopicPartitionOffset(partition, before));
            }
        }

        if (trimmed.Count > 0 && logger.IsEnabled(LogLevel.Debug))
            logger.LogDebug("Kafka: trimmed {Partitions}", string.Join(", ", trimmed.Select(t => $"{t.Topic} [{t.Partition.Value}] < {t.Offset.Value}")));
        return trimmed;
    }

    // What librdkafka says of a broker that is down is what the one warning above already says: debug, not stderr.
    private GroupOffsets Offsets => _offsets ??= new GroupOffsets(cluster.BrokerAddresses, "insights-devstack-trimmer",
        message => logger.LogDebug("Kafka: trimmer's reader: {Message}", message));

    // The readers go when the trimmer stops: the dev stack disposes the broker right after its hosted services stop,
    // and readers still connected then would report it as down on the way out.
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (ExecuteTask is not { IsCompleted: false }) CloseReaders(); // never under a round still running
    }

    public override void Dispose()
    {
        CloseReaders();
        base.Dispose();
    }

    private void CloseReaders()
    {
        _offsets?.Dispose();
        _offsets = null;
    }
}
