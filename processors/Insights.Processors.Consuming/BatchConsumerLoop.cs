using System.Text;
using ClickHouse.Driver;
using Confluent.Kafka;
using Insights.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Processors.Consuming;

/// <summary>
/// The batch-consumer loop of every consumer group: migrate the schema, then consume the group's topic in batches
/// (size or time), let the handler make each batch durable, dead-letter what it refused, and only then store the
/// batch's offsets, which the client auto-commits. At-least-once from Kafka; exactly-once counts come from the
/// handlers' idempotent writes.
/// </summary>
/// <remarks>
/// <para>Runs on its own thread: <c>Consume</c> blocks, and rebalance callbacks run inside it on this thread, so
/// batches are only ever touched by one thread.</para>
/// <para>An outage (<see cref="Failures"/>) pauses every assigned partition and retries the same batch with capped
/// exponential back-off while still polling, which keeps the group membership alive. A batch refused for a reason
/// that is not an outage is halved, and each half tried in order, until the refused messages stand alone (at most
/// ⌈log2 n⌉ levels); those are dead-lettered with the reason, and every other message is written. Offsets are
/// stored after each part, so a crash in the middle replays only what is left. Anything else stops the host with a
/// non-zero exit code: a loop that cannot continue never leaves the host serving without it.</para>
/// </remarks>
public sealed class BatchConsumerLoop<THandler>(
    THandler handler,
    SchemaMigrator migrator,
    DeadLetters deadLetters,
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<ClickHouseStorageOptions> storageOptions,
    IHostApplicationLifetime lifetime,
    ILogger<BatchConsumerLoop<THandler>> logger) : BackgroundService
    where THandler : IBatchHandler
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);

    private readonly ConsumerGroup group = handler.Group;
    private readonly KafkaOptions kafka = kafkaOptions.Value;
    private readonly Dictionary<TopicPartition, Offset> stored = [];

    // The parts of the batch being flushed, the next one on top; one part until a refusal splits it.
    private readonly Stack<ConsumedBatch> pending = new();

    // Messages that arrived during a back-off from partitions assigned after the pause; they start the next batch.
    private readonly List<ConsumeResult<byte[]?, byte[]?>> deferred = [];
    private ConsumedBatch batch = new();
    // The partitions this loop paused and has not resumed: resumed before they leave, so none comes back still paused
    // (ResumeLeaving).
    private readonly HashSet<TopicPartition> pausedPartitions = [];

    private string Name => group.Name;

    private bool Paused => pausedPartitions.Count > 0;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        try
        {
            Migrate(stoppingToken);
            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            using var consumer = BuildConsumer();
            consumer.Subscribe(group.Options.Topic);
            LogMessages.Consuming(logger, Name, group.Options.Topic, group.Options.GroupId, storageOptions.Value.Database);
            group.Health.Ready();
            try
            {
                Consume(consumer, stoppingToken);
                FinishOnStop(consumer);
            }
            finally
            {
                Close(consumer);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception error)
        {
            LogMessages.LoopFailed(logger, Name, error);
            group.Health.NotReady("the consumer loop stopped: " + error.Message);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    private void Migrate(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(kafka);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                migrator.MigrateAsync(stoppingToken).GetAwaiter().GetResult();
                group.Health.MarkSchemaApplied();
                return;
            }
            catch (Exception error) when (!stoppingToken.IsCancellationRequested && Failures.Classify(error, stoppingToken) == FailureKind.Outage)
            {
                var wait = backoff.Next();
                group.Health.NotReady("waiting for ClickHouse to migrate the schema: " + error.Message);
                LogMessages.MigrationFailed(logger, Name, backoff.Attempts, (long)wait.TotalMilliseconds, error);
                stoppingToken.WaitHandle.WaitOne(wait);
            }
        }
    }

    private void Consume(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stoppingToken)
    {
        // A batch closes when it is full, or when its first message has waited BatchMaxWaitMs and no other message is
        // already here. Caught up, that is the window after the first message; behind (events that queued while the
        // last batch was written, a backlog), the batch takes what has arrived and closes without a window of its own,
        // so an event waits about one window or one batch's writing, not both.
        var maxWait = TimeSpan.FromMilliseconds(group.Options.BatchMaxWaitMs);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = batch.Count == 0 ? IdlePoll : maxWait - batch.Age;
            if (Next(consumer, wait > TimeSpan.Zero ? wait : TimeSpan.Zero) is { } message)
            {
                batch.Add(message);
                if (batch.Count < group.Options.BatchMaxEvents)
                {
                    continue;
                }
            }

            if (batch.Count > 0 && (batch.Count >= group.Options.BatchMaxEvents || batch.Age >= maxWait))
            {
                Flush(consumer, stoppingToken);
            }
        }
    }

    /// <summary>Makes the batch durable part by part (one part unless refusals split it), storing offsets after each,
    /// until every part is done, its partitions are revoked, or the host stops.</summary>
    private void Flush(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stoppingToken)
    {
        group.Metrics.Consumed(batch.Count);
        pending.Push(batch);
        batch = new ConsumedBatch();
        while (pending.TryPeek(out var part))
        {
            if (part.Count == 0 || Attempt(consumer, part, stoppingToken))
            {
                StoreOffsets(consumer, part);
                pending.Pop();
            }
        }

        foreach (var message in deferred)
        {
            batch.Add(message);
        }

        deferred.Clear();
        if (Paused)
        {
            consumer.Resume(consumer.Assignment);
            pausedPartitions.Clear();
        }

        group.Metrics.Recovered();
        group.Health.Ready();
        UpdateLag(consumer);
    }

    /// <summary>
    /// Tries the part until it is durable (true), waiting out outages with the partitions paused. When it is refused
    /// instead, it is replaced on <see cref="pending"/> by its halves, or, when it is a single message, marked to be
    /// dead-lettered as it is; false then, and the caller goes on with the top of the stack.
    /// </summary>
    private bool Attempt(IConsumer<byte[]?, byte[]?> consumer, ConsumedBatch part, CancellationToken stoppingToken)
    {
        var backoff = new Backoff(kafka);
        while (part.Count > 0)
        {
            try
            {
                if (part.Result is null)
                {
                    RejectOnFault(part);
                    part.Result = handler.HandleAsync(part, stoppingToken).GetAwaiter().GetResult();
                }

                if (!part.DeadLettered)
                {
                    deadLetters.SendAsync(group, part.Result.Rejected, stoppingToken).GetAwaiter().GetResult();
                    part.DeadLettered = true;
                    if (part.Result.Rejected.Count > 0)
                    {
                        LogMessages.DeadLettered(logger, Name, part.Result.Rejected.Count, part.Result.Rejected[0].Reason);
                    }
                }

                if (backoff.Attempts > 0)
                {
                    LogMessages.BatchRecovered(logger, Name, backoff.Attempts + 1);
                }

                return true;
            }
            catch (Exception error) when (!stoppingToken.IsCancellationRequested)
            {
                switch (Failures.Classify(error, stoppingToken))
                {
                    case FailureKind.Outage:
                        var wait = backoff.Next();
                        group.Health.NotReady($"writing a batch failed {backoff.Attempts} time(s), retrying: {error.Message}");
                        group.Metrics.Failed(wait);
                        LogMessages.BatchFailed(logger, Name, part.Count, backoff.Attempts, (long)wait.TotalMilliseconds, error);
                        PauseWhile(consumer, part, wait, stoppingToken);
                        stoppingToken.ThrowIfCancellationRequested();
                        continue;
                    case FailureKind.Rejected when part.Result is null:
                        Refused(part, error);
                        return false;
                    default:
                        throw;
                }
            }
        }

        return true;
    }

    /// <summary>Replaces a refused part by its halves, or marks a single refused message for the dead-letter topic.</summary>
    private void Refused(ConsumedBatch part, Exception error)
    {
        var reason = Failures.ReasonOf(error);
        if (part.Count == 1)
        {
            part.Result = new BatchResult([new Rejection(part.Messages[0], reason, Failures.DetailOf(error), Name + ".handle")]);
            return;
        }

        LogMessages.BatchRefused(logger, Name, part.Count, reason, error);
        group.Metrics.Split();
        pending.Pop();
        var (first, second) = part.Split();
        pending.Push(second);
        pending.Push(first);
    }

    private void RejectOnFault(ConsumedBatch part)
    {
        if (group.Options.LoopFaults.RejectValueContaining is not { Length: > 0 } marker)
        {
            return;
        }

        var needle = Encoding.UTF8.GetBytes(marker);
        foreach (var message in part.Messages)
        {
            if (message.Message.Value is { } value && value.AsSpan().IndexOf(needle) >= 0)
            {
                throw new ClickHouseServerException(
                    $"Code: 27. DB::ParsingException: Cannot parse input (fault injection: a message contains '{marker}'). (CANNOT_PARSE_INPUT_ASSERTION_FAILED)",
                    "INSERT", 27);
            }
        }
    }

    /// <summary>Waits out a back-off while polling (heartbeats, rebalances), with every assigned partition paused.</summary>
    private void PauseWhile(IConsumer<byte[]?, byte[]?> consumer, ConsumedBatch part, TimeSpan wait, CancellationToken stoppingToken)
    {
        Pause(consumer, consumer.Assignment);
        var until = DateTime.UtcNow + wait;
        while (!stoppingToken.IsCancellationRequested && part.Count > 0 && DateTime.UtcNow < until)
        {
            var remaining = until - DateTime.UtcNow;
            if (Next(consumer, remaining < IdlePoll ? remaining : IdlePoll) is { } early)
            {
                // A partition assigned during the back-off is not paused yet. Its messages wait for the next batch
                // rather than join this one: the part being retried keeps its contents, its progress and its token.
                deferred.Add(early);
                Pause(consumer, [early.TopicPartition]);
            }
        }

        UpdateLag(consumer);
    }

    private void Pause(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        consumer.Pause(partitions);
        pausedPartitions.UnionWith(partitions);
    }

    /// <summary>
    /// Resumes the partitions leaving this consumer that it had paused. librdkafka keeps a partition's pause, and the
    /// position it was paused at (one past the last message the application consumed), when the partition is revoked
    /// or lost and later assigned to this consumer again; on resume it then fetches from that position instead of the
    /// group's committed offset (librdkafka issue 1802), skipping every message consumed but not yet written. A batch
    /// failing while the group's session expired lost exactly those: accepted events missing, consumer lag 0.
    /// </summary>
    private void ResumeLeaving(IConsumer<byte[]?, byte[]?> consumer, HashSet<TopicPartition> leaving)
    {
        var stale = leaving.Where(pausedPartitions.Remove).ToList();
        if (stale.Count == 0)
        {
            return;
        }

        try
        {
            consumer.Resume(stale);
        }
        catch (KafkaException error)
        {
            // Thrown here it would end the loop from inside Consume; the risk it leaves is logged instead.
            LogMessages.ResumeLeavingFailed(logger, Name, Describe(stale), error);
        }
    }

    private ConsumeResult<byte[]?, byte[]?>? Next(IConsumer<byte[]?, byte[]?> consumer, TimeSpan wait)
    {
        try
        {
            return consumer.Consume(wait);
        }
        catch (ConsumeException error) when (!error.Error.IsFatal)
        {
            // Broker hiccups and topics that do not exist yet: librdkafka recovers by itself.
            LogMessages.ConsumeFailed(logger, Name, error.Error.Reason);
            return null;
        }
    }

    private void StoreOffsets(IConsumer<byte[]?, byte[]?> consumer, ConsumedBatch part)
    {
        foreach (var offset in part.NextOffsets())
        {
            consumer.StoreOffset(offset);
            stored[offset.TopicPartition] = offset.Offset;
        }
    }

    /// <summary>On a graceful stop, one attempt at the batch in hand, so a deploy does not replay it.</summary>
    private void FinishOnStop(IConsumer<byte[]?, byte[]?> consumer)
    {
        if (batch.Count == 0 || Paused || pending.Count > 0)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            var result = handler.HandleAsync(batch, deadline.Token).GetAwaiter().GetResult();
            deadLetters.SendAsync(group, result.Rejected, deadline.Token).GetAwaiter().GetResult();
            StoreOffsets(consumer, batch);
        }
        catch (Exception error) when (Failures.Classify(error, CancellationToken.None) != FailureKind.Fatal)
        {
            // Read again on the next start; every write is idempotent.
            LogMessages.FinalBatchAbandoned(logger, Name, batch.Count, error);
        }
    }

    /// <summary>Leaves the group at once (no session timeout for the others to wait out), commits what was stored,
    /// and lets the handler deliver what it queued.</summary>
    private void Close(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            consumer.Close();
            LogMessages.Stopped(logger, Name);
        }
        catch (KafkaException error)
        {
            // After a fatal error the group is gone anyway; the error that ended the loop is the one to report.
            LogMessages.CloseFailed(logger, Name, error);
        }

        handler.Stopped();
        deadLetters.Flush(TimeSpan.FromSeconds(5));
    }

    private IConsumer<byte[]?, byte[]?> BuildConsumer()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = group.Options.GroupId,
            ClientId = $"{group.ClientName}@{Environment.MachineName}",
            // Offsets are stored by hand once a batch is durable; the client commits the stored ones.
            EnableAutoOffsetStore = false,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = kafka.AutoCommitIntervalMs,
            // A new group starts at the beginning: events produced before the group first ran are not skipped.
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = kafka.SessionTimeoutMs,
            HeartbeatIntervalMs = kafka.HeartbeatIntervalMs,
            MaxPartitionFetchBytes = kafka.MaxPartitionFetchBytes,
            FetchMaxBytes = kafka.FetchMaxBytes,
            FetchWaitMaxMs = kafka.FetchWaitMaxMs,
            // The topic names each message's partition (offsets are stored by it) and the timestamp ages a batch.
            ConsumeResultFields = group.ReadsHeaders ? "all" : "topic,timestamp",
        };

        return new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, error) =>
            {
                LogMessages.KafkaError(logger, Name, error.Reason, error.Code);
                if (error.IsFatal)
                {
                    // Raised again by the next Consume as a fatal ConsumeException, which stops the host.
                    group.Health.NotReady("Kafka consumer: " + error.Reason);
                }
            })
            .SetLogHandler((_, message) => OnKafkaLog(message))
            .SetPartitionsAssignedHandler((c, partitions) =>
            {
                LogMessages.PartitionsAssigned(logger, Name, Describe(partitions));
                return handler.PartitionsAssigned(c, partitions);
            })
            .SetPartitionsRevokedHandler((c, partitions) =>
            {
                var revoked = partitions.Select(p => p.TopicPartition).ToHashSet();
                var abandoned = Abandon(revoked);
                CommitStored(c, revoked);
                ResumeLeaving(c, revoked);
                LogMessages.PartitionsRevoked(logger, Name, Describe(revoked), abandoned);
            })
            .SetPartitionsLostHandler((c, partitions) =>
            {
                // Already someone else's: committing would overwrite the new owner's progress.
                var lost = partitions.Select(p => p.TopicPartition).ToHashSet();
                var abandoned = Abandon(lost);
                ResumeLeaving(c, lost);
                foreach (var tp in lost)
                {
                    stored.Remove(tp);
                }

                LogMessages.PartitionsLost(logger, Name, Describe(lost), abandoned);
            })
            .Build();
    }

    /// <summary>
    /// librdkafka's own lines: warnings and worse are logged (the rest is for debugging), and an offset reset because
    /// the next messages are gone (librdkafka then skips to the oldest it still has, without telling the application
    /// otherwise) is counted and logged as the loss it is.
    /// </summary>
    private void OnKafkaLog(LogMessage message)
    {
        if (message.Level > SyslogLevel.Warning)
        {
            return;
        }

        if (IsSkippedAhead(message))
        {
            group.Metrics.OffsetSkipped();
            LogMessages.OffsetSkipped(logger, Name, message.Message);
            return;
        }

        LogMessages.KafkaWarning(logger, Name, message.Facility, message.Message);
    }

    /// <summary>librdkafka's "offset reset … Offset out of range" line (facility OFFSET): the fetch position no longer exists.</summary>
    internal static bool IsSkippedAhead(LogMessage message) =>
        message.Facility == "OFFSET" && message.Message.Contains("Offset out of range", StringComparison.OrdinalIgnoreCase);

    /// <summary>Drops everything held for partitions this consumer no longer owns, and tells the handler.</summary>
    private int Abandon(HashSet<TopicPartition> partitions)
    {
        var abandoned = batch.Abandon(partitions) + deferred.RemoveAll(m => partitions.Contains(m.TopicPartition));
        foreach (var part in pending)
        {
            abandoned += part.Abandon(partitions);
        }

        handler.PartitionsRevoked(partitions);
        return abandoned;
    }

    /// <summary>Commits what was stored for partitions that are leaving, so their next owner starts exactly after them.</summary>
    private void CommitStored(IConsumer<byte[]?, byte[]?> consumer, HashSet<TopicPartition> revoked)
    {
        var offsets = revoked.Where(stored.ContainsKey).Select(tp => new TopicPartitionOffset(tp, stored[tp])).ToList();
        foreach (var tp in revoked)
        {
            stored.Remove(tp);
        }

        if (offsets.Count == 0)
        {
            return;
        }

        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException error)
        {
            LogMessages.RevokeCommitFailed(logger, Name, error);
        }
    }

    private void UpdateLag(IConsumer<byte[]?, byte[]?> consumer)
    {
        long lag = 0;
        foreach (var tp in consumer.Assignment)
        {
            var high = consumer.GetWatermarkOffsets(tp).High;
            if (high == Offset.Unset)
            {
                continue;
            }

            var position = stored.TryGetValue(tp, out var offset) ? offset : consumer.Position(tp);
            if (position != Offset.Unset)
            {
                lag += Math.Max(0, high.Value - position.Value);
            }
        }

        group.Metrics.Lag(lag);
    }

    private static string Describe(IEnumerable<TopicPartition> partitions) =>
        string.Join(", ", partitions.GroupBy(p => p.Topic).Select(g => $"{g.Key}[{string.Join(',', g.Select(p => p.Partition.Value).Order())}]"));

    private static string Describe(IEnumerable<TopicPartitionOffset> partitions) => Describe(partitions.Select(p => p.TopicPartition));
}
