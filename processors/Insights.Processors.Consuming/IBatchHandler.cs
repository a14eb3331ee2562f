using Confluent.Kafka;

namespace Insights.Processors.Consuming;

/// <summary>
/// What one consumer group does with a batch; <see cref="BatchConsumerLoop{THandler}"/> does everything else
/// (consume, batch, back off, split, dead-letter, store offsets, rebalance, stop).
/// </summary>
/// <remarks>
/// Called on the loop's thread only. A throw fails the attempt: an outage (see <see cref="Failures"/>) is retried
/// with the same <see cref="ConsumedBatch"/> (its <see cref="ConsumedBatch.State"/> lets a retry resume), any other
/// failure splits the batch. So the handler must be safe to call again with the same messages or a contiguous part
/// of them: idempotent writes, deduplication tokens derived from the messages it was given.
/// </remarks>
public interface IBatchHandler
{
    /// <summary>The group's name, settings, health and metrics.</summary>
    ConsumerGroup Group { get; }

    /// <summary>Makes the batch durable; returns the messages it refuses (each dead-lettered by the loop).</summary>
    Task<BatchResult> HandleAsync(ConsumedBatch batch, CancellationToken cancellationToken);

    /// <summary>These partitions are no longer this instance's: forget what was remembered about them.</summary>
    void PartitionsRevoked(IReadOnlyCollection<TopicPartition> partitions);

    /// <summary>
    /// These partitions were just assigned: where to start reading each (<see cref="Offset.Unset"/>: after the group's
    /// committed offset, as usual). <paramref name="consumer"/> answers for the group's committed offsets. Called on the
    /// loop's thread, inside the rebalance.
    /// </summary>
    IEnumerable<TopicPartitionOffset> PartitionsAssigned(IConsumer<byte[]?, byte[]?> consumer, IReadOnlyCollection<TopicPartition> partitions) =>
        partitions.Select(p => new TopicPartitionOffset(p, Offset.Unset));

    /// <summary>The loop stopped (consumer closed): deliver what is queued, within a bounded wait.</summary>
    void Stopped();
}

/// <summary>
/// One consumer group of the host. <paramref name="Name"/> appears in logs and as the dead-letter stage prefix,
/// <paramref name="ClientName"/> in Kafka client ids and the dead-letter source. A group whose handler reads only the
/// values leaves <paramref name="ReadsHeaders"/> false: its client then does not copy every message's headers into
/// objects (for the attribution group, 4 % of the processors' allocations during a drain).
/// </summary>
public sealed record ConsumerGroup(string Name, string ClientName, ConsumerGroupOptions Options, ConsumerHealth Health, ConsumerMetrics Metrics,
    bool ReadsHeaders = true);

/// <summary>A message the handler refuses, why (a metric tag, so a short fixed word) and at which step.</summary>
public readonly record struct Rejection(ConsumeResult<byte[]?, byte[]?> Message, string Reason, string? Detail, string Stage);

/// <summary>The outcome of a batch the handler made durable.</summary>
public sealed class BatchResult(IReadOnlyList<Rejection> rejected)
{
    public static readonly BatchResult Done = new([]);

    /// <summary>Messages to dead-letter; their offsets advance with the batch once the dead-letter topic has them.</summary>
    public IReadOnlyList<Rejection> Rejected { get; } = rejected;

    internal BatchResult Without(IReadOnlySet<TopicPartition> partitions) =>
        Rejected.Count == 0 ? this : new([.. Rejected.Where(r => !partitions.Contains(r.Message.TopicPartition))]);
}
