using System.Diagnostics;
using System.Net.Sockets;
using ClickHouse.Driver;
using Confluent.Kafka;
using Insights.Attribution.Engine;
using Insights.Attribution.Storage;
using Insights.Contracts;
using Insights.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Attribution;

/// <summary>
/// The I/O shell around <see cref="AttributionEngine"/>: consume <c>insights.events</c> with its own group, and per
/// batch prepare → load the touched components from ClickHouse → compute → write → store offsets. At-least-once
/// from Kafka; every write is idempotent and versioned, so replays change no number (see the engine's remarks).
/// </summary>
/// <remarks>
/// The loop follows the processors' <c>EventConsumer</c>: its own thread (rebalance callbacks run inside
/// <c>Consume</c> on it), offsets stored by hand only after the batch is written, a failed batch retried with
/// capped back-off while every assigned partition is paused and the group membership kept alive, and anything the
/// loop cannot handle stops the host. Poison messages are skipped here (counted): the processors dead-letter them.
/// </remarks>
public sealed class AttributionConsumer(
    AttributionEngine engine,
    ClickHouseFacts store,
    SchemaMigrator migrator,
    AttributionHealth health,
    AttributionMetrics metrics,
    IOptions<AttributionOptions> attributionOptions,
    IOptions<ClickHouseStorageOptions> storageOptions,
    IHostApplicationLifetime lifetime,
    ILogger<AttributionConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);

    private readonly AttributionOptions options = attributionOptions.Value;
    private readonly List<ConsumeResult<byte[]?, byte[]?>> batch = [];
    private readonly Dictionary<TopicPartition, Offset> stored = [];
    private long batchStartedAt;
    private PreparedBatch? prepared;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        if (!options.Enabled)
        {
            health.Ready();
            return;
        }

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
            health.NotReady("the attribution loop stopped: " + error.Message);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
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
            var wait = batch.Count == 0 ? IdlePoll : maxWait - Stopwatch.GetElapsedTime(batchStartedAt);
            if (wait > TimeSpan.Zero && Next(consumer, wait) is { } message)
            {
                Add(message);
            }

            if (batch.Count > 0 && (batch.Count >= options.BatchMaxEvents || Stopwatch.GetElapsedTime(batchStartedAt) >= maxWait))
            {
                Flush(consumer, stoppingToken);
            }
        }
    }

    private void Add(ConsumeResult<byte[]?, byte[]?> message)
    {
        if (batch.Count == 0)
        {
            batchStartedAt = Stopwatch.GetTimestamp();
        }

        batch.Add(message);
    }

    /// <summary>Attributes the batch and stores its offsets, retrying with back-off (partitions paused) until it succeeds,
    /// its partitions are revoked, or the host stops.</summary>
    private void Flush(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stoppingToken)
    {
        metrics.Consumed(batch.Count);
        var backoff = new Backoff(options);
        var paused = false;
        while (batch.Count > 0)
        {
            try
            {
                AttributeAsync(stoppingToken).GetAwaiter().GetResult();
            }
            catch (Exception error) when (IsTransient(error, stoppingToken))
            {
                var wait = backoff.Next();
                health.NotReady($"attributing a batch failed {backoff.Attempts} time(s), retrying: {error.Message}");
                metrics.Failed();
                LogMessages.BatchFailed(logger, batch.Count, backoff.Attempts, (long)wait.TotalMilliseconds, error);
                consumer.Pause(consumer.Assignment);
                paused = true;
                PauseWhile(consumer, wait, stoppingToken);
                stoppingToken.ThrowIfCancellationRequested();
                continue;
            }

            StoreOffsets(consumer);
            Clear();
            if (backoff.Attempts > 0)
            {
                LogMessages.BatchRecovered(logger, backoff.Attempts + 1);
            }
        }

        if (paused)
        {
            consumer.Resume(consumer.Assignment);
        }

        health.Ready();
        UpdateLag(consumer);
    }

    /// <summary>One attempt: prepare (once per batch), load, compute, write, then let the engine remember the stored links.</summary>
    private async Task AttributeAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        prepared ??= Prepare();
        var (facts, stats) = await ComponentLoader.LoadAsync(prepared, store, options.MaxComponentNodes, options.MaxLoadRounds, cancellationToken);
        if (stats.Truncated)
        {
            metrics.Truncated();
            LogMessages.ComponentTruncated(logger, stats.Nodes, stats.Rounds);
        }

        var output = engine.Compute(prepared, facts);
        foreach (var (table, rows) in await store.WriteAsync(output, cancellationToken))
        {
            metrics.Written(table, rows);
        }

        engine.Commit(prepared);
        metrics.Batch(Stopwatch.GetElapsedTime(started), stats.Nodes);
    }

    private PreparedBatch Prepare()
    {
        var events = new List<PipelineEvent>(batch.Count);
        foreach (var message in batch)
        {
            var decoded = EventCodec.Decode(message.Message.Value);
            if (decoded.Event is { } e)
            {
                events.Add(e);
            }
            else
            {
                metrics.Skipped(decoded.Reason ?? "undecodable");
            }
        }

        var result = engine.Prepare(events);
        foreach (var (reason, count) in result.Skipped)
        {
            metrics.Skipped(reason, count);
        }

        return result;
    }

    /// <summary>Waits out a back-off while polling (heartbeats, rebalances); messages of partitions assigned meanwhile wait for the next batch.</summary>
    private void PauseWhile(IConsumer<byte[]?, byte[]?> consumer, TimeSpan wait, CancellationToken stoppingToken)
    {
        var until = DateTime.UtcNow + wait;
        var early = new List<ConsumeResult<byte[]?, byte[]?>>();
        while (!stoppingToken.IsCancellationRequested && batch.Count > 0 && DateTime.UtcNow < until)
        {
            var remaining = until - DateTime.UtcNow;
            if (Next(consumer, remaining < IdlePoll ? remaining : IdlePoll) is { } message)
            {
                // From a partition assigned during the back-off (not paused yet): rewind it so the message is read
                // again after this batch, rather than change the batch being retried.
                consumer.Pause([message.TopicPartition]);
                consumer.Seek(message.TopicPartitionOffset);
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
            LogMessages.ConsumeFailed(logger, error.Error.Reason);
            return null;
        }
    }

    private void StoreOffsets(IConsumer<byte[]?, byte[]?> consumer)
    {
        var next = new Dictionary<TopicPartition, long>();
        foreach (var message in batch)
        {
            var after = message.Offset.Value + 1;
            if (!next.TryGetValue(message.TopicPartition, out var known) || after > known)
            {
                next[message.TopicPartition] = after;
            }
        }

        foreach (var (tp, offset) in next)
        {
            consumer.StoreOffset(new TopicPartitionOffset(tp, offset));
            stored[tp] = offset;
        }
    }

    private void Clear()
    {
        batch.Clear();
        prepared = null;
    }

    /// <summary>On a graceful stop, one attempt at the batch in hand, so a deploy does not replay it.</summary>
    private void FinishOnStop(IConsumer<byte[]?, byte[]?> consumer)
    {
        if (batch.Count == 0)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.QueryTimeoutSeconds));
        try
        {
            AttributeAsync(deadline.Token).GetAwaiter().GetResult();
            StoreOffsets(consumer);
        }
        catch (Exception error) when (IsTransient(error, CancellationToken.None))
        {
            // Read again on the next start; attribution is idempotent.
        }

        Clear();
    }

    private void Close(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            consumer.Close();
            LogMessages.Stopped(logger);
        }
        catch (KafkaException error)
        {
            LogMessages.CloseFailed(logger, error);
        }
    }

    private IConsumer<byte[]?, byte[]?> BuildConsumer()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.GroupId,
            ClientId = $"insights-attribution@{Environment.MachineName}",
            EnableAutoOffsetStore = false,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = options.AutoCommitIntervalMs,
            // A new group starts at the beginning: orders and chats produced before attribution first ran still count.
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
                    health.NotReady("Kafka consumer: " + error.Reason);
                }
            })
            .SetPartitionsAssignedHandler((_, partitions) => LogMessages.PartitionsAssigned(logger, Describe(partitions)))
            .SetPartitionsRevokedHandler((c, partitions) =>
            {
                var revoked = partitions.Select(p => p.TopicPartition).ToHashSet();
                var abandoned = Abandon(revoked);
                var offsets = revoked.Where(stored.ContainsKey).Select(tp => new TopicPartitionOffset(tp, stored[tp])).ToList();
                foreach (var tp in revoked)
                {
                    stored.Remove(tp);
                }

                if (offsets.Count > 0)
                {
                    try
                    {
                        c.Commit(offsets);
                    }
                    catch (KafkaException)
                    {
                        // The next owner re-reads from the last commit; attribution is idempotent.
                    }
                }

                LogMessages.PartitionsRevoked(logger, Describe(revoked), abandoned);
            })
            .SetPartitionsLostHandler((_, partitions) =>
            {
                var lost = partitions.Select(p => p.TopicPartition).ToHashSet();
                var abandoned = Abandon(lost);
                foreach (var tp in lost)
                {
                    stored.Remove(tp);
                }

                LogMessages.PartitionsLost(logger, Describe(lost), abandoned);
            })
            .Build();
    }

    /// <summary>Drops the messages of partitions this consumer no longer owns; the batch is prepared again without them.</summary>
    private int Abandon(HashSet<TopicPartition> partitions)
    {
        var removed = batch.RemoveAll(m => partitions.Contains(m.TopicPartition));
        if (removed > 0)
        {
            prepared = null;
        }

        return removed;
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

    private static bool IsTransient(Exception error, CancellationToken stoppingToken) => error switch
    {
        OperationCanceledException => !stoppingToken.IsCancellationRequested,
        ClickHouseServerException or HttpRequestException or IOException or SocketException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(e => IsTransient(e, stoppingToken)),
        _ => false,
    };

    private static string Describe(IEnumerable<TopicPartition> partitions) =>
        string.Join(", ", partitions.GroupBy(p => p.Topic).Select(g => $"{g.Key}[{string.Join(',', g.Select(p => p.Partition.Value).Order())}]"));

    private static string Describe(IEnumerable<TopicPartitionOffset> partitions) => Describe(partitions.Select(p => p.TopicPartition));

    private sealed class Backoff(AttributionOptions options)
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
