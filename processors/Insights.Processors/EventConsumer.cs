using System.Net.Sockets;
using ClickHouse.Driver;
using Confluent.Kafka;
using Insights.Processors.Sessions;
using Insights.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Processors;

/// <summary>
/// The consumer loop: migrate the schema, then consume <c>insights.events</c> in batches (size or time), write
/// each batch (<see cref="BatchWriter"/>) and only then store its offsets, which the client auto-commits.
/// At-least-once from Kafka; exactly-once counts come from storage deduplication (see processors/README.md).
/// </summary>
/// <remarks>
/// Runs on its own thread: <c>Consume</c> blocks, and rebalance callbacks run inside it on this thread, so the
/// batch is only ever touched by one thread. A ClickHouse (or dead-letter) failure pauses the assigned partitions
/// and retries the same batch with capped exponential back-off while still polling, which keeps the group
/// membership alive. Anything else the loop cannot handle stops the host with a non-zero exit code.
/// </remarks>
public sealed class EventConsumer(
    BatchWriter writer,
    Sessionizer sessionizer,
    SchemaMigrator migrator,
    PipelineHealth health,
    ProcessorMetrics metrics,
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<ProcessorOptions> processorOptions,
    IOptions<ClickHouseStorageOptions> storageOptions,
    IHostApplicationLifetime lifetime,
    ILogger<EventConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);

    private readonly ProcessorOptions options = processorOptions.Value;
    private readonly EventBatch batch = new();
    private readonly Dictionary<TopicPartition, Offset> stored = [];

    // Messages that arrived during a back-off from partitions assigned after the pause; they start the next batch.
    private readonly List<ConsumeResult<byte[]?, byte[]?>> deferred = [];
    private bool paused;

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
            consumer.Subscribe(options.Topic);
            LogMessages.Consuming(logger, options.Topic, options.GroupId, storageOptions.Value.Database);
            health.Ready();
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
            LogMessages.LoopFailed(logger, error);
            health.NotReady("the consumer loop stopped: " + error.Message);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    /// <summary>Leaves the group at once (no session timeout for the others to wait out), commits what was stored,
    /// and sends the enriched events still queued.</summary>
    private void Close(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            consumer.Close();
            LogMessages.Stopped(logger);
        }
        catch (KafkaException error)
        {
            // After a fatal error the group is gone anyway; the error that ended the loop is the one to report.
            LogMessages.CloseFailed(logger, error);
        }

        writer.Flush(TimeSpan.FromSeconds(5));
    }

    private void Migrate(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(options);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                migrator.MigrateAsync(stoppingToken).GetAwaiter().GetResult();
                return;
            }
            catch (Exception error) when (IsTransient(error, stoppingToken))
            {
                var wait = backoff.Next();
                health.NotReady("waiting for ClickHouse to migrate the schema: " + error.Message);
                LogMessages.MigrationFailed(logger, backoff.Attempts, (long)wait.TotalMilliseconds, error);
                stoppingToken.WaitHandle.WaitOne(wait);
            }
        }
    }

    private void Consume(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stoppingToken)
    {
        var maxWait = TimeSpan.FromMilliseconds(options.BatchMaxWaitMs);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = batch.IsEmpty ? IdlePoll : maxWait - batch.Age;
            if (wait > TimeSpan.Zero && Next(consumer, wait) is { } message)
            {
                batch.Add(message);
            }

            if (!batch.IsEmpty && (batch.Count >= options.BatchMaxEvents || batch.Age >= maxWait))
            {
                Flush(consumer, stoppingToken);
            }
        }
    }

    /// <summary>Writes the batch and stores its offsets, retrying with back-off (partitions paused) until it succeeds,
    /// its partitions are revoked, or the host stops.</summary>
    private void Flush(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stoppingToken)
    {
        metrics.Consumed(batch.Count);
        metrics.Batch(batch.Count);
        var backoff = new Backoff(options);
        while (!batch.IsEmpty)
        {
            try
            {
                writer.WriteAsync(batch, stoppingToken).GetAwaiter().GetResult();
            }
            catch (Exception error) when (IsTransient(error, stoppingToken))
            {
                var wait = backoff.Next();
                health.NotReady($"writing a batch failed {backoff.Attempts} time(s), retrying: {error.Message}");
                metrics.ClickHouseFailed(wait);
                LogMessages.BatchFailed(logger, batch.Count, backoff.Attempts, (long)wait.TotalMilliseconds, error);
                PauseWhile(consumer, wait, stoppingToken);
                stoppingToken.ThrowIfCancellationRequested();
                continue;
            }

            StoreOffsets(consumer);
            batch.Clear();
            if (backoff.Attempts > 0)
            {
                LogMessages.BatchRecovered(logger, backoff.Attempts + 1);
            }
        }

        foreach (var message in deferred)
        {
            batch.Add(message);
        }

        deferred.Clear();

        if (paused)
        {
            consumer.Resume(consumer.Assignment);
            paused = false;
        }

        metrics.ClickHouseRecovered();
        health.Ready();
        UpdateLag(consumer);
    }

    /// <summary>Waits out a back-off while polling (heartbeats, rebalances), with every assigned partition paused.</summary>
    private void PauseWhile(IConsumer<byte[]?, byte[]?> consumer, TimeSpan wait, CancellationToken stoppingToken)
    {
        consumer.Pause(consumer.Assignment);
        paused = true;
        var until = DateTime.UtcNow + wait;
        while (!stoppingToken.IsCancellationRequested && !batch.IsEmpty && DateTime.UtcNow < until)
        {
            var remaining = until - DateTime.UtcNow;
            if (Next(consumer, remaining < IdlePoll ? remaining : IdlePoll) is { } early)
            {
                // A partition assigned during the back-off is not paused yet. Its messages wait for the next batch
                // rather than join this one: the batch being retried keeps its contents, its progress and its token.
                deferred.Add(early);
                consumer.Pause([early.TopicPartition]);
            }
        }

        UpdateLag(consumer);
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
            LogMessages.ConsumeFailed(logger, error.Error.Reason);
            return null;
        }
    }

    private void StoreOffsets(IConsumer<byte[]?, byte[]?> consumer)
    {
        foreach (var offset in batch.NextOffsets())
        {
            consumer.StoreOffset(offset);
            stored[offset.TopicPartition] = offset.Offset;
        }
    }

    /// <summary>On a graceful stop, one attempt at the batch in hand, so a deploy does not replay it.</summary>
    private void FinishOnStop(IConsumer<byte[]?, byte[]?> consumer)
    {
        if (batch.IsEmpty || paused)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.InsertTimeoutSeconds));
        try
        {
            writer.WriteAsync(batch, deadline.Token).GetAwaiter().GetResult();
            StoreOffsets(consumer);
        }
        catch (Exception error) when (IsTransient(error, CancellationToken.None))
        {
            LogMessages.FinalBatchAbandoned(logger, batch.Count, error);
        }

        batch.Clear();
    }

    private IConsumer<byte[]?, byte[]?> BuildConsumer()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = kafkaOptions.Value.BootstrapServers,
            GroupId = options.GroupId,
            ClientId = $"insights-processors@{Environment.MachineName}",
            // Offsets are stored by hand once a batch is durable; the client commits the stored ones.
            EnableAutoOffsetStore = false,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = options.AutoCommitIntervalMs,
            // A new group starts at the beginning: events produced before the first processor started are not skipped.
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = options.SessionTimeoutMs,
            HeartbeatIntervalMs = options.HeartbeatIntervalMs,
        };

        return new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, error) =>
            {
                LogMessages.KafkaError(logger, error.Reason, error.Code);
                if (error.IsFatal)
                {
                    // Raised again by the next Consume as a fatal ConsumeException, which stops the host.
                    health.NotReady("Kafka consumer: " + error.Reason);
                }
            })
            .SetPartitionsAssignedHandler((_, partitions) => LogMessages.PartitionsAssigned(logger, Describe(partitions)))
            .SetPartitionsRevokedHandler((c, partitions) =>
            {
                var revoked = partitions.Select(p => p.TopicPartition).ToList();
                var abandoned = batch.Abandon(revoked) + AbandonDeferred(revoked);
                sessionizer.Forget(revoked.Select(tp => tp.Partition.Value));
                CommitStored(c, revoked);
                LogMessages.PartitionsRevoked(logger, Describe(revoked), abandoned);
            })
            .SetPartitionsLostHandler((_, partitions) =>
            {
                // Already someone else's: committing would overwrite the new owner's progress.
                var lost = partitions.Select(p => p.TopicPartition).ToList();
                var abandoned = batch.Abandon(lost) + AbandonDeferred(lost);
                sessionizer.Forget(lost.Select(tp => tp.Partition.Value));
                lost.ForEach(tp => stored.Remove(tp));
                LogMessages.PartitionsLost(logger, Describe(lost), abandoned);
            })
            .Build();
    }

    private int AbandonDeferred(List<TopicPartition> partitions) => deferred.RemoveAll(m => partitions.Contains(m.TopicPartition));

    /// <summary>Commits what was stored for partitions that are leaving, so their next owner starts exactly after them.</summary>
    private void CommitStored(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> revoked)
    {
        var offsets = revoked.Where(stored.ContainsKey).Select(tp => new TopicPartitionOffset(tp, stored[tp])).ToList();
        revoked.ForEach(tp => stored.Remove(tp));
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
            LogMessages.RevokeCommitFailed(logger, error);
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

        metrics.Lag(lag);
    }

    /// <summary>Failures worth waiting out: the server or the network, not a bug or a refused configuration.</summary>
    private static bool IsTransient(Exception error, CancellationToken stoppingToken) => error switch
    {
        OperationCanceledException => !stoppingToken.IsCancellationRequested,
        ClickHouseServerException or HttpRequestException or IOException or SocketException or TimeoutException => true,
        ProduceException<byte[]?, byte[]?> produce => !produce.Error.IsFatal,
        AggregateException aggregate => aggregate.InnerExceptions.All(e => IsTransient(e, stoppingToken)),
        _ => false,
    };

    private static string Describe(IEnumerable<TopicPartition> partitions) =>
        string.Join(", ", partitions.GroupBy(p => p.Topic).Select(g => $"{g.Key}[{string.Join(',', g.Select(p => p.Partition.Value).Order())}]"));

    private static string Describe(IEnumerable<TopicPartitionOffset> partitions) => Describe(partitions.Select(p => p.TopicPartition));

    /// <summary>Capped exponential back-off: initial, 2×, 4× … up to the maximum.</summary>
    private sealed class Backoff(ProcessorOptions options)
    {
        public int Attempts { get; private set; }

        public TimeSpan Next()
        {
            var ms = Math.Min((double)options.BackoffMaxMs, options.BackoffInitialMs * Math.Pow(2, Attempts));
            Attempts++;
            return TimeSpan.FromMilliseconds(ms);
        }
    }
}
