using Confluent.Kafka;
using Insights.Processors.Consuming;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Attribution;

/// <summary>
/// How far attribution got on each partition, kept as the committed offsets of its own consumer group
/// (<see cref="AttributionOptions.GroupId"/>, <c>insights-attribution</c>). Attribution runs inside the processors'
/// batches and reads nothing from Kafka itself; the group's offsets still say what it has attributed, so ingest's
/// back-pressure and the dev stack's trimmer go on reading both groups, and a processor upgraded from a version where
/// attribution was a consumer of its own resumes where attribution stopped (<see cref="ResumeFrom"/>).
/// </summary>
/// <remarks>
/// The offsets are committed by a client of that group that never joins it (no subscription, no fetches): a batch's
/// offsets are recorded once it is attributed, and committed within <see cref="KafkaOptions.AutoCommitIntervalMs"/>, as
/// the processors' own stored offsets are. Thread-safe: batches record on the loop's thread, a timer commits.
/// </remarks>
public sealed class AttributionProgress : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly Lazy<IConsumer<Ignore, Ignore>> client;
    private readonly Dictionary<TopicPartition, Offset> pending = [];
    private readonly Lock gate = new();
    private readonly Lock sending = new();
    private readonly Timer timer;
    private readonly ILogger<AttributionProgress> logger;
    private readonly string groupId;

    public AttributionProgress(IOptions<AttributionOptions> attributionOptions, IOptions<KafkaOptions> kafkaOptions, ILogger<AttributionProgress> logger)
    {
        ArgumentNullException.ThrowIfNull(attributionOptions);
        ArgumentNullException.ThrowIfNull(kafkaOptions);
        var kafka = kafkaOptions.Value;
        groupId = attributionOptions.Value.GroupId;
        this.logger = logger;
        client = new Lazy<IConsumer<Ignore, Ignore>>(() => new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = groupId,
            ClientId = $"insights-attribution@{Environment.MachineName}",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
        }).SetLogHandler((_, message) =>
        {
            if (message.Level <= SyslogLevel.Warning)
            {
                LogMessages.ProgressKafka(logger, message.Facility, message.Message);
            }
        }).Build(), LazyThreadSafetyMode.ExecutionAndPublication);
        var interval = TimeSpan.FromMilliseconds(kafka.AutoCommitIntervalMs);
        timer = new Timer(_ => Commit(), null, interval, interval);
    }

    /// <summary>The batch ending at these offsets (one past its last message, per partition) is attributed.</summary>
    public void Record(IEnumerable<TopicPartitionOffset> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        lock (gate)
        {
            foreach (var offset in next)
            {
                if (!pending.TryGetValue(offset.TopicPartition, out var known) || offset.Offset.Value > known.Value)
                {
                    pending[offset.TopicPartition] = offset.Offset;
                }
            }
        }
    }

    /// <summary>
    /// Where the processors must start reading these partitions so that attribution misses nothing: the attribution
    /// group's committed offset where it is behind the processors' (<paramref name="processorsCommitted"/>), unset
    /// elsewhere. Events between the two are processed again, which every write of the processors and of attribution
    /// deduplicates. When Kafka does not answer, nothing is moved (and the gap is logged).
    /// </summary>
    public List<TopicPartitionOffset> ResumeFrom(IReadOnlyList<TopicPartitionOffset> processorsCommitted)
    {
        ArgumentNullException.ThrowIfNull(processorsCommitted);
        var start = processorsCommitted.Select(p => new TopicPartitionOffset(p.TopicPartition, Offset.Unset)).ToList();
        if (processorsCommitted.Count == 0)
        {
            return start;
        }

        List<TopicPartitionOffset> attributed;
        try
        {
            attributed = client.Value.Committed(processorsCommitted.Select(p => p.TopicPartition), RequestTimeout);
        }
        catch (KafkaException error)
        {
            LogMessages.ProgressUnknown(logger, groupId, error);
            return start;
        }

        var by = attributed.ToDictionary(p => p.TopicPartition, p => p.Offset);
        for (var i = 0; i < start.Count; i++)
        {
            var processed = processorsCommitted[i];
            if (by.TryGetValue(processed.TopicPartition, out var at) && at.Value >= 0 && processed.Offset.Value >= 0 && at.Value < processed.Offset.Value)
            {
                LogMessages.ResumingForAttribution(logger, processed.TopicPartition.Topic, processed.TopicPartition.Partition.Value, at.Value,
                    processed.Offset.Value);
                start[i] = new TopicPartitionOffset(processed.TopicPartition, at);
            }
        }

        return start;
    }

    /// <summary>These partitions leave this processor: what was recorded for them is committed now, before their next
    /// owner records more. (Partitions lost rather than revoked come here too: should this commit land after the new
    /// owner's, it only sets the group back, so a later start reads some events again and skips none.)</summary>
    public void Release(IEnumerable<TopicPartition> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        var leaving = partitions.ToHashSet();
        List<TopicPartitionOffset> offsets;
        lock (gate)
        {
            offsets = [.. pending.Where(p => leaving.Contains(p.Key)).Select(p => new TopicPartitionOffset(p.Key, p.Value))];
            foreach (var tp in leaving)
            {
                pending.Remove(tp);
            }
        }

        Send(offsets);
    }

    /// <summary>Commits what was recorded since the last commit; kept for the next try when Kafka refuses.</summary>
    public void Commit()
    {
        List<TopicPartitionOffset> offsets;
        lock (gate)
        {
            if (pending.Count == 0)
            {
                return;
            }

            offsets = [.. pending.Select(p => new TopicPartitionOffset(p.Key, p.Value))];
            pending.Clear();
        }

        if (!Send(offsets))
        {
            Record(offsets);
        }
    }

    public void Dispose()
    {
        // Waits for a commit in flight, so none runs on a disposed client.
        using (var stopped = new ManualResetEvent(false))
        {
            if (timer.Dispose(stopped))
            {
                stopped.WaitOne();
            }
        }

        Commit();
        if (client.IsValueCreated)
        {
            client.Value.Dispose();
        }
    }

    private bool Send(List<TopicPartitionOffset> offsets)
    {
        if (offsets.Count == 0)
        {
            return true;
        }

        try
        {
            // One commit at a time, so a slow one is never overtaken by a later one that it would then set back.
            lock (sending)
            {
                client.Value.Commit(offsets);
            }

            return true;
        }
        catch (KafkaException error)
        {
            LogMessages.ProgressNotCommitted(logger, groupId, error);
            return false;
        }
    }
}
