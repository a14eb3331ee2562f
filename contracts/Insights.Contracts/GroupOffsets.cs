using Confluent.Kafka;

namespace Insights.Contracts;

/// <summary>
/// How far consumer groups have read a topic, asked of the broker over its own protocol: each group's committed offsets
/// (OffsetFetch, through a consumer that carries the group's id but never subscribes, so it never joins the group, takes
/// no partitions from its members and commits nothing) and each partition's watermarks (ListOffsets). The dev stack's
/// trimmer and ingest's back-pressure read the same figures this way. Every call blocks on the broker: call it off the
/// request path. Not thread-safe: one caller at a time.
/// </summary>
/// <remarks>
/// Not the admin client: librdkafka 2.x's admin ListConsumerGroupOffsets aborts the whole process
/// (<c>rd_kafka_enq_once_del_source_return: Assertion `eonce->refcnt &gt; 0' failed</c>, librdkafka issues 3663 and 4605)
/// when the coordinator's connection drops under a request, which a broker going down does.
/// </remarks>
public sealed class GroupOffsets(string bootstrapServers, string clientId, Action<string> debugLog) : IDisposable
{
    private readonly Dictionary<string, IConsumer<byte[], byte[]>> readers = new(StringComparer.Ordinal);

    /// <summary>
    /// Per partition 0..<paramref name="partitionCount"/>-1, the lowest offset any of <paramref name="groups"/> has
    /// committed; -1 where one of them has committed nothing (it has read nothing there, or the answer left it out).
    /// </summary>
    public long[] SlowestCommitted(string topic, int partitionCount, IReadOnlyList<string> groups, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var partitions = Enumerable.Range(0, partitionCount).Select(p => new TopicPartition(topic, p)).ToList();
        var slowest = new long[partitionCount];
        Array.Fill(slowest, long.MaxValue);
        foreach (var group in groups)
        {
            var read = new long[partitionCount];
            Array.Fill(read, -1);
            foreach (var committed in Reader(group).Committed(partitions, timeout).Where(c => c.Partition.Value >= 0 && c.Partition.Value < partitionCount))
                read[committed.Partition.Value] = committed.Offset.IsSpecial ? -1 : committed.Offset.Value;
            for (var p = 0; p < partitionCount; p++)
                slowest[p] = Math.Min(slowest[p], read[p]);
        }

        return slowest;
    }

    /// <summary>The partition's first and next offsets (low and high watermark), from the broker.</summary>
    public WatermarkOffsets Watermarks(TopicPartition partition, string anyGroup, TimeSpan timeout) =>
        Reader(anyGroup).QueryWatermarkOffsets(partition, timeout);

    private IConsumer<byte[], byte[]> Reader(string group)
    {
        if (readers.TryGetValue(group, out var reader)) return reader;
        reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            ClientId = clientId,
            GroupId = group,
            EnableAutoCommit = false,
            LogConnectionClose = false,
        })
            // What librdkafka says of a broker that is down is what the caller's own warning says: debug, not stderr.
            .SetLogHandler((_, message) => debugLog(message.Message))
            .SetErrorHandler((_, error) => debugLog(error.Reason))
            .Build();
        readers.Add(group, reader);
        return reader;
    }

    public void Dispose()
    {
        foreach (var reader in readers.Values) reader.Dispose();
        readers.Clear();
    }
}
