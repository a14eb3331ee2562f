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
    public static long Of(string bootstrap, string group, string topic) => Behind(bootstrap, group, topic, Ends(bootstrap, topic));

    /// <summary>Each partition's high watermark now, by partition number: where a later <see cref="Behind"/> measures to.</summary>
    public static long[] Ends(string bootstrap, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics[0].Partitions.Count;
        using var offsets = new GroupOffsets(bootstrap, "insights-test-lag", _ => { });
        return [.. Enumerable.Range(0, partitions).Select(p => offsets.Watermarks(new TopicPartition(topic, p), "insights-test-lag", TimeSpan.FromSeconds(10)).High.Value)];
    }

    /// <summary>
    /// Messages before <paramref name="ends"/> (per partition, as <see cref="Ends"/> read them) that <paramref name="group"/>
    /// has not committed: 0 once the group is past everything that was there then, whatever was written since (other
    /// tests sharing the topic keep writing).
    /// </summary>
    public static long Behind(string bootstrap, string group, string topic, IReadOnlyList<long> ends)
    {
        ArgumentNullException.ThrowIfNull(ends);
        using var offsets = new GroupOffsets(bootstrap, "insights-test-lag", _ => { });
        var committed = offsets.SlowestCommitted(topic, ends.Count, [group], TimeSpan.FromSeconds(10));
        return Enumerable.Range(0, ends.Count).Sum(p => Math.Max(0, ends[p] - Math.Max(0, committed[p])));
    }
}
