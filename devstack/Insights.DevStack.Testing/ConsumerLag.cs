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
        using var offsets = Reader(bootstrap);
        return Behind(offsets, group, topic, Ends(offsets, bootstrap, topic, group));
    }

    /// <summary>Each partition's high watermark now, by partition number: where a later <see cref="Behind(string, string, string, IReadOnlyList{long})"/> measures to.</summary>
    public static long[] Ends(string bootstrap, string topic)
    {
        using var offsets = Reader(bootstrap);
        return Ends(offsets, bootstrap, topic, ClientId);
    }

    /// <summary>
    /// Messages before <paramref name="ends"/> (per partition, as <see cref="Ends(string, string)"/> read them) that
    /// <paramref name="group"/> has not committed: 0 once the group is past everything that was there then, whatever was
    /// written since (other tests sharing the topic keep writing).
    /// </summary>
    public static long Behind(string bootstrap, string group, string topic, IReadOnlyList<long> ends)
    {
        using var offsets = Reader(bootstrap);
        return Behind(offsets, group, topic, ends);
    }

    private const string ClientId = "insights-test-lag";

    // A reader per call; Of reads the ends and the group's commits through one consumer, the group's (GroupOffsets keeps one per group id).
    private static GroupOffsets Reader(string bootstrap) => new(bootstrap, ClientId, _ => { });

    private static long[] Ends(GroupOffsets offsets, string bootstrap, string topic, string anyGroup)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics[0].Partitions.Count;
        return [.. Enumerable.Range(0, partitions).Select(p => offsets.Watermarks(new TopicPartition(topic, p), anyGroup, TimeSpan.FromSeconds(10)).High.Value)];
    }

    private static long Behind(GroupOffsets offsets, string group, string topic, IReadOnlyList<long> ends)
    {
        ArgumentNullException.ThrowIfNull(ends);
        var committed = offsets.SlowestCommitted(topic, ends.Count, [group], TimeSpan.FromSeconds(10));
        return Enumerable.Range(0, ends.Count).Sum(p => Math.Max(0, ends[p] - Math.Max(0, committed[p])));
    }
}
