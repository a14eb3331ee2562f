using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.DevStack.Testing;

/// <summary>How far a consumer group is behind on a topic, read from the broker as an operator would.</summary>
public static class ConsumerLag
{
    /// <summary>
    /// Messages of <paramref name="topic"/> that <paramref name="group"/> has not committed: per partition, the high
    /// watermark minus the committed offset (a partition with nothing committed counts whole). 0 means caught up.
    /// </summary>
    public static long Of(string bootstrap, string group, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics[0].Partitions
            .Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        using var offsets = new GroupOffsets(bootstrap, "insights-test-lag", _ => { });
        var committed = offsets.SlowestCommitted(topic, partitions.Count, [group], TimeSpan.FromSeconds(10));
        return partitions.Sum(p => Math.Max(0, offsets.Watermarks(p, group, TimeSpan.FromSeconds(10)).High.Value - Math.Max(0, committed[p.Partition.Value])));
    }
}
