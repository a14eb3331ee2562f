using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.ControlPlane.Cli.Events;

/// <summary>What a replay is asked to do.</summary>
public sealed record ReplayPlan
{
    public required string BootstrapServers { get; init; }

    public string Topic { get; init; } = Topics.Events;

    /// <summary>From this time (inclusive), by the message's Kafka timestamp: when ingest produced it.</summary>
    public required DateTimeOffset From { get; init; }

    /// <summary>To this time (exclusive).</summary>
    public required DateTimeOffset To { get; init; }

    /// <summary>Only this site's messages (the key is <c>site:visitor</c>); null = every site.</summary>
    public string? Site { get; init; }

    public bool DryRun { get; init; }

    /// <summary>Messages per second at most; 0 = as fast as Kafka takes them.</summary>
    public double Rate { get; init; }
}

/// <summary>How a replay ended: messages read in the range, replayed (or, on a dry run, that would be), by site and type.</summary>
public sealed record ReplaySummary(long Scanned, long Replayed, IReadOnlyDictionary<(string Site, string Type), long> ByKind, TimeSpan Elapsed);

/// <summary>
/// Re-processes a time range of the raw topic through the processors: the range's messages are found with
/// <c>OffsetsForTimes</c> (per partition, the first offset at or after <c>From</c> and at or after <c>To</c>; the end is
/// fixed when the replay starts, so it never chases its own copies; a broker without a time index is read from each
/// partition's start), read with a consumer that joins no group and commits
/// nothing, filtered by site, and produced again to the same topic — same key (so the same partition and processor as
/// the visitor's live events), same value (same event id, timestamp and received time), same headers — plus the
/// <see cref="EventCodec.ReplayHeader"/> header naming where the original was.
/// <para>Why this counts once: the processors write the copy's event row again, and <c>events</c>, a
/// ReplacingMergeTree on <c>(site_id, type, toStartOfHour(timestamp), event_id)</c> versioned by <c>inserted_at</c>, keeps the
/// newer row — the replayed, re-enriched one — while every report reads <c>FINAL</c>. A visitor event the visitor's
/// stored sessions already hold is not folded again (the processors recognise the header); orders and chats are
/// versioned facts in attribution. Replayed messages are not republished for live presence: they are not news.</para>
/// </summary>
public sealed class TopicReplay(ProgressMeter progress, TimeProvider time)
{
    private static readonly TimeSpan KafkaTimeout = TimeSpan.FromSeconds(15);

    public async Task<ReplaySummary> RunAsync(ReplayPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var consumerConfig = new ConsumerConfig
        {
            BootstrapServers = plan.BootstrapServers,
            // Never used for commits: the replay must not move any group's offsets, its own included.
            GroupId = $"insights-replay-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            // A range whose start retention removed meanwhile is read from what is left.
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SocketTimeoutMs = 10_000,
        };
        using var consumer = new ConsumerBuilder<byte[], byte[]>(consumerConfig).Build();
        var ranges = FindRanges(consumer, plan);
        var total = ranges.Sum(r => r.End - r.Start);
        progress.Total = total;
        var started = time.GetTimestamp();
        var byKind = new Dictionary<(string, string), long>();
        long scanned = 0, replayed = 0;
        if (total == 0)
        {
            return new ReplaySummary(0, 0, byKind, time.GetElapsedTime(started));
        }

        using var producer = plan.DryRun ? null : new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = plan.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            MessageTimeoutMs = 120_000,
        }).Build();
        string? deliveryError = null;
        long delivered = 0;
        void OnDelivered(DeliveryReport<byte[], byte[]> report)
        {
            if (report.Error.IsError)
            {
                deliveryError ??= report.Error.Reason;
            }
            else
            {
                Interlocked.Increment(ref delivered);
            }
        }

        var sitePrefix = plan.Site is null ? null : Encoding.UTF8.GetBytes(plan.Site + ":");
        var open = ranges.Where(r => r.End > r.Start).ToDictionary(r => r.Partition.Partition.Value);
        consumer.Assign(open.Values.Select(r => new TopicPartitionOffset(r.Partition, r.Start)));
        var position = open.Values.ToDictionary(r => r.Partition.Partition.Value, r => r.Start);
        var (from, to) = (plan.From.ToUnixTimeMilliseconds(), plan.To.ToUnixTimeMilliseconds());
        var idleSince = time.GetTimestamp();
        while (open.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (deliveryError is not null)
            {
                throw new AdminException($"Kafka did not take the replayed messages ({deliveryError}); check Kafka and run the replay again: a message replayed twice is still counted once",
                    ExitCodes.Unavailable);
            }

            var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (result is null)
            {
                if (time.GetElapsedTime(idleSince) > KafkaTimeout)
                {
                    throw new AdminException($"no message from {plan.Topic} for {KafkaTimeout.TotalSeconds:0} s while {open.Count} partitions were unfinished; is Kafka at {plan.BootstrapServers} up?",
                        ExitCodes.Unavailable);
                }

                continue;
            }

            idleSince = time.GetTimestamp();
            var partition = result.Partition.Value;
            if (!open.TryGetValue(partition, out var range))
            {
                continue;
            }

            if (result.IsPartitionEOF || result.Offset.Value >= range.End)
            {
                // At the end fixed at the start (or the log's end, if the partition lost data meanwhile).
                position[partition] = range.End;
                open.Remove(partition);
                consumer.IncrementalUnassign([range.Partition]);
                continue;
            }

            position[partition] = result.Offset.Value + 1;
            scanned++;
            var message = result.Message;
            var at = message.Timestamp.UnixTimestampMs;
            // OffsetsForTimes finds the first offset at or after a time; a producer's clock may still put an earlier
            // time after it, so each message's own timestamp decides.
            if (at >= from && at < to && (sitePrefix is null || (message.Key is { } key && key.AsSpan().StartsWith(sitePrefix))))
            {
                var kind = Kind(message);
                byKind[kind] = byKind.GetValueOrDefault(kind) + 1;
                replayed++;
                if (producer is not null)
                {
                    var headers = new Headers();
                    foreach (var header in message.Headers ?? [])
                    {
                        if (header.Key != EventCodec.ReplayHeader)
                        {
                            headers.Add(header.Key, header.GetValueBytes());
                        }
                    }

                    headers.Add(EventCodec.ReplayHeader, Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{partition}:{result.Offset.Value}")));
                    await ProduceAsync(producer, plan.Topic, new Message<byte[], byte[]> { Key = message.Key!, Value = message.Value, Headers = headers, Timestamp = message.Timestamp },
                        OnDelivered, cancellationToken);
                    if (plan.Rate > 0)
                    {
                        var due = TimeSpan.FromSeconds(replayed / plan.Rate) - time.GetElapsedTime(started);
                        if (due > TimeSpan.Zero)
                        {
                            await Task.Delay(due, time, cancellationToken);
                        }
                    }
                }
            }

            if (scanned % 256 == 0)
            {
                progress.Report(Done(position, ranges), replayed);
            }
        }

        if (producer is not null)
        {
            while (producer.Flush(TimeSpan.FromSeconds(1)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (deliveryError is not null || Interlocked.Read(ref delivered) != replayed)
            {
                throw new AdminException($"Kafka did not take every replayed message ({deliveryError ?? "not all delivered"}); run the replay again: a message replayed twice is still counted once",
                    ExitCodes.Unavailable);
            }
        }

        consumer.Close();
        progress.Report(total, replayed);
        progress.Finish();
        return new ReplaySummary(scanned, replayed, byKind, time.GetElapsedTime(started));
    }

    /// <summary>Per partition: the first offset at or after <c>From</c>, and the first at or after <c>To</c> (else the end).</summary>
    public static IReadOnlyList<PartitionRange> FindRanges(IConsumer<byte[], byte[]> consumer, ReplayPlan plan)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(plan);
        List<TopicPartition> partitions;
        try
        {
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var topic = admin.GetMetadata(plan.Topic, KafkaTimeout).Topics.SingleOrDefault(t => t.Topic == plan.Topic);
            if (topic is null || topic.Error.IsError || topic.Partitions.Count == 0)
            {
                throw new AdminException($"Kafka at {plan.BootstrapServers} has no topic {plan.Topic}{(topic?.Error.IsError == true ? $" ({topic.Error.Reason})" : "")}; check --topic and --bootstrap");
            }

            partitions = [.. topic.Partitions.Select(p => new TopicPartition(plan.Topic, p.PartitionId)).OrderBy(p => p.Partition.Value)];
        }
        catch (KafkaException error)
        {
            throw new AdminException($"cannot reach Kafka at {plan.BootstrapServers} ({error.Error.Reason}); check --bootstrap or Kafka:BootstrapServers", ExitCodes.Unavailable);
        }

        try
        {
            var starts = consumer.OffsetsForTimes([.. partitions.Select(p => new TopicPartitionTimestamp(p, new Timestamp(plan.From)))], KafkaTimeout);
            var ends = consumer.OffsetsForTimes([.. partitions.Select(p => new TopicPartitionTimestamp(p, new Timestamp(plan.To)))], KafkaTimeout);
            var ranges = new List<PartitionRange>(partitions.Count);
            foreach (var partition in partitions)
            {
                var watermarks = consumer.QueryWatermarkOffsets(partition, KafkaTimeout);
                var (low, high) = (watermarks.Low.Value, watermarks.High.Value);
                // Offset.End (no message at or after the time) means: up to the end as it is now.
                var start = Resolve(starts.Single(s => s.Partition == partition.Partition).Offset, low, high);
                var end = Resolve(ends.Single(s => s.Partition == partition.Partition).Offset, low, high);
                if (start == high && high > low && LastTimestamp(consumer, partition, high) >= plan.From.ToUnixTimeMilliseconds())
                {
                    // "Nothing at or after From", yet the newest message is: this broker keeps no time index (the dev
                    // stack's mock cluster answers every time lookup so). Read the partition from its start; each
                    // message's own timestamp decides.
                    (start, end) = (low, high);
                }

                ranges.Add(new PartitionRange(partition, start, Math.Max(start, end)));
            }

            return ranges;
        }
        catch (KafkaException error)
        {
            throw new AdminException($"Kafka at {plan.BootstrapServers} could not say which offsets hold the range ({error.Error.Reason})", ExitCodes.Unavailable);
        }
    }

    /// <summary>The timestamp of a partition's newest message (at <paramref name="high"/> − 1), or −1 if it cannot be read.</summary>
    private static long LastTimestamp(IConsumer<byte[], byte[]> consumer, TopicPartition partition, long high)
    {
        consumer.Assign(new TopicPartitionOffset(partition, high - 1));
        try
        {
            var deadline = DateTime.UtcNow + KafkaTimeout;
            while (DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } result && result.Partition == partition.Partition)
                {
                    return result.Message.Timestamp.UnixTimestampMs;
                }
            }

            return -1;
        }
        finally
        {
            consumer.Unassign();
        }
    }

    private static long Resolve(Offset offset, long low, long high) => offset.IsSpecial ? high : Math.Clamp(offset.Value, low, high);

    private static long Done(Dictionary<int, long> position, IReadOnlyList<PartitionRange> ranges) =>
        ranges.Sum(r => position.TryGetValue(r.Partition.Partition.Value, out var at) ? at - r.Start : r.End - r.Start);

    private static (string Site, string Type) Kind(Message<byte[], byte[]> message)
    {
        var key = message.Key is { } k ? Encoding.UTF8.GetString(k) : "";
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        // From the value, which is what the processors act on (messages carry no type header: EventCodec.ToMessage).
        var type = message.Value is { } value && EventCodec.Decode(value).Event is { } e ? e.Type : "?";
        return (colon > 0 ? key[..colon] : key, type);
    }

    /// <summary>Produces, waiting while the local queue is full rather than failing: the rate is Kafka's.</summary>
    private static async Task ProduceAsync(IProducer<byte[], byte[]> producer, string topic, Message<byte[], byte[]> message,
        Action<DeliveryReport<byte[], byte[]>> onDelivered, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, onDelivered);
                return;
            }
            catch (ProduceException<byte[], byte[]> error) when (error.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(100));
                await Task.Yield();
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }
}

/// <summary>A partition's offsets to replay: [Start, End).</summary>
public readonly record struct PartitionRange(TopicPartition Partition, long Start, long End);
