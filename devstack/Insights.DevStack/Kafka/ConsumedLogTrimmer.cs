using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Insights.DevStack.Kafka;

/// <summary>
/// Keeps the mock broker's logs short: deletes, every <see cref="KafkaStackOptions.TrimIntervalMs"/>, the records of
/// each topic in <see cref="KafkaStackOptions.ConsumedBy"/> that lie more than <see cref="KafkaStackOptions.KeepConsumed"/>
/// messages behind the slowest of its consumer groups (why: <see cref="KafkaStackOptions.ConsumedBy"/>).
/// </summary>
/// <remarks>
/// It asks the broker over its own protocol (an admin client): each group's committed offsets, and each partition's
/// start. A partition is trimmed only when every group named has committed it and the new start is past the current
/// one. The second condition matters: the mock moves a log's start to whatever it is told, even backwards, and its own
/// 5 MiB limit may have moved the start past a lagging group's offset.
/// </remarks>
public sealed class ConsumedLogTrimmer(MockKafkaCluster cluster, KafkaStackOptions options, ILogger<ConsumedLogTrimmer> logger)
    : BackgroundService
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly IReadOnlyList<(string Topic, int Partitions, string[] Groups)> _trimmed = options.Trimmed();
    private IAdminClient? _admin;
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
            catch (Exception e) when (e is KafkaException or ObjectDisposedException or InvalidOperationException)
            {
                if (stoppingToken.IsCancellationRequested) return; // the cluster is going away with the process
                // A broker set down by a test's fault injection, or a request that timed out: try again next tick.
                if (!_failing) logger.LogWarning("Kafka: could not trim consumed records ({Message}); retrying every {Interval} ms", e.Message, options.TrimIntervalMs);
                _failing = true;
            }
        }
    }

    /// <summary>One round over every trimmed topic; returns the partitions it trimmed and where each now starts.</summary>
    public async Task<IReadOnlyList<TopicPartitionOffset>> TrimAsync(CancellationToken cancellationToken)
    {
        _admin ??= new AdminClientBuilder(new AdminClientConfig
        {
            BootstrapServers = cluster.BrokerAddresses,
            ClientId = "insights-devstack-trimmer",
            LogConnectionClose = false,
        }).Build();

        var trimmed = new List<TopicPartitionOffset>();
        foreach (var (topic, partitionCount, groups) in _trimmed)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var partitions = Enumerable.Range(0, partitionCount).Select(p => new TopicPartition(topic, p)).ToList();

            // The slowest group's committed offset per partition; a partition missing from any group is not trimmed.
            var slowest = new long[partitionCount];
            Array.Fill(slowest, long.MaxValue);
            foreach (var group in groups)
            {
                var result = await _admin.ListConsumerGroupOffsetsAsync(
                    [new ConsumerGroupTopicPartitions(group, partitions)],
                    new ListConsumerGroupOffsetsOptions { RequestTimeout = RequestTimeout });
                var read = new long[partitionCount];
                Array.Fill(read, -1); // a partition the answer leaves out counts as not read
                foreach (var committed in result.Single().Partitions.Where(c => c.Partition.Value >= 0 && c.Partition.Value < partitionCount))
                    read[committed.Partition.Value] = committed.Error.IsError || committed.Offset.IsSpecial ? -1 : committed.Offset.Value;
                for (var p = 0; p < partitionCount; p++)
                    slowest[p] = Math.Min(slowest[p], read[p]);
            }

            var candidates = partitions.Where(p => slowest[p.Partition.Value] - options.KeepConsumed > 0).ToList();
            if (candidates.Count == 0) continue;
            var starts = await _admin.ListOffsetsAsync(
                candidates.Select(p => new TopicPartitionOffsetSpec { TopicPartition = p, OffsetSpec = OffsetSpec.Earliest() }),
                new ListOffsetsOptions { RequestTimeout = RequestTimeout });
            foreach (var start in starts.ResultInfos.Select(r => r.TopicPartitionOffsetError))
            {
                var before = slowest[start.Partition.Value] - options.KeepConsumed;
                if (start.Error.IsError || before <= start.Offset.Value) continue;
                cluster.DeleteRecords(topic, start.Partition.Value, before);
                trimmed.Add(new TopicPartitionOffset(start.TopicPartition, before));
            }
        }

        if (trimmed.Count > 0 && logger.IsEnabled(LogLevel.Debug))
            logger.LogDebug("Kafka: trimmed {Partitions}", string.Join(", ", trimmed.Select(t => $"{t.Topic} [{t.Partition.Value}] < {t.Offset.Value}")));
        return trimmed;
    }

    public override void Dispose()
    {
        _admin?.Dispose();
        base.Dispose();
    }
}
