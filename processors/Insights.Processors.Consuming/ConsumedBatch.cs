using System.Diagnostics;
using Confluent.Kafka;

namespace Insights.Processors.Consuming;

/// <summary>
/// Messages consumed since the last stored offsets, in the order they arrived (so, per partition, in offset order),
/// and how far they got: handled (durable), dead letters delivered. A part of a split batch is a batch too.
/// </summary>
/// <remarks>Owned by the loop's thread (rebalance callbacks run on it too), so it needs no locks.</remarks>
public sealed class ConsumedBatch
{
    private readonly List<ConsumeResult<byte[]?, byte[]?>> messages;
    private long startedAt;
    private long producedAtMs;
    private List<TopicPartitionOffset>? nextOffsets;

    internal ConsumedBatch(List<ConsumeResult<byte[]?, byte[]?>>? messages = null, int depth = 0)
    {
        this.messages = messages ?? [];
        Depth = depth;
        startedAt = Stopwatch.GetTimestamp();
    }

    public IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> Messages => messages;

    public int Count => messages.Count;

    /// <summary>How many times the batch this one came from was halved (0: as consumed).</summary>
    public int Depth { get; }

    /// <summary>The handler's work on exactly these messages (prepared rows, steps done), kept between attempts so a
    /// retry resumes where the last one stopped. Cleared when the messages change (a rebalance took some).</summary>
    public object? State { get; set; }

    internal BatchResult? Result { get; set; }

    internal bool DeadLettered { get; set; }

    /// <summary>
    /// How long the first message has waited: since it was consumed here, or, when its Kafka timestamp says it was
    /// produced earlier (it queued while the last batch was written, or it is part of a backlog), since then. A
    /// producer clock ahead of this one only falls back to the first; one behind only makes the batch close sooner.
    /// </summary>
    internal TimeSpan Age
    {
        get
        {
            if (messages.Count == 0)
            {
                return TimeSpan.Zero;
            }

            var here = Stopwatch.GetElapsedTime(startedAt);
            var produced = TimeSpan.FromMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - producedAtMs);
            return producedAtMs > 0 && produced > here ? produced : here;
        }
    }

    internal void Add(ConsumeResult<byte[]?, byte[]?> message)
    {
        if (messages.Count == 0)
        {
            startedAt = Stopwatch.GetTimestamp();
            producedAtMs = message.Message?.Timestamp is { Type: not TimestampType.NotAvailable } timestamp ? timestamp.UnixTimestampMs : 0;
        }

        messages.Add(message);
        nextOffsets = null;
    }

    /// <summary>
    /// Drops the messages of partitions this consumer no longer owns, without storing their offsets: the next owner
    /// reads them again from the last committed offset. A handled batch stays handled (its rows are written); an
    /// unhandled one is prepared again from what is left.
    /// </summary>
    internal int Abandon(IReadOnlySet<TopicPartition> partitions)
    {
        var removed = messages.RemoveAll(m => partitions.Contains(m.TopicPartition));
        if (removed > 0)
        {
            nextOffsets = null;
            if (Result is null)
            {
                State = null;
            }
            else
            {
                Result = Result.Without(partitions);
            }
        }

        return removed;
    }

    /// <summary>Two contiguous halves: every partition's messages in the first precede its messages in the second, so
    /// handling the first, then the second, keeps each partition in order.</summary>
    internal (ConsumedBatch First, ConsumedBatch Second) Split()
    {
        var half = messages.Count / 2;
        return (new ConsumedBatch(messages[..half], Depth + 1), new ConsumedBatch(messages[half..], Depth + 1));
    }

    /// <summary>The offset to store per partition: one past the last message of the batch. Worked out once for the
    /// messages as they are (the loop stores them, and the processors record them for attribution too).</summary>
    public IReadOnlyList<TopicPartitionOffset> NextOffsets() => nextOffsets ??= ComputeNextOffsets();

    private List<TopicPartitionOffset> ComputeNextOffsets()
    {
        var next = new Dictionary<TopicPartition, long>();
        foreach (var message in messages)
        {
            var after = message.Offset.Value + 1;
            if (!next.TryGetValue(message.TopicPartition, out var known) || after > known)
            {
                next[message.TopicPartition] = after;
            }
        }

        return [.. next.Select(kv => new TopicPartitionOffset(kv.Key, kv.Value))];
    }
}
