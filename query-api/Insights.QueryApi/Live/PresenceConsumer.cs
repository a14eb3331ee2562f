using Confluent.Kafka;
using Insights.Contracts;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live;

/// <summary>
/// Feeds <see cref="PresenceBoard"/> from the enriched topic. Every instance must see every site's visitors, so each
/// joins a consumer group of its own (all partitions are its) and commits nothing: it starts at the end of each
/// partition, rebuilds the last idle window from ClickHouse, then follows the topic. Bad messages are skipped and
/// counted, never a reason to stop.
/// </summary>
/// <remarks>
/// No gap between the rebuild and the topic: positions are pinned to the partitions' ends when assigned, before
/// ClickHouse is read, and the processors publish an event only after storing it — so an event is either in the
/// rebuild, or after the pinned position, or both (the board drops repeats by event id).
/// <para>
/// Only the first assignment of a partition is pinned to its end. The group commits nothing, so when the same consumer
/// is given a partition again (it rejoined its group after the coordinator moved, a broker restarted or its session
/// lapsed), it goes on from the message after the last one it read: jumping to the end would drop whoever arrived
/// during the rejoin from the list until their next event.
/// </para>
/// </remarks>
public sealed class PresenceConsumer(
    PresenceBoard board, PresenceRebuild rebuild, VisitHistory history, LiveMetrics metrics, IOptions<LiveOptions> options, IConfiguration configuration,
    ILogger<PresenceConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(1);

    // Past this without an assignment (Kafka unreachable), presence starts from the rebuild alone and the topic
    // joins in when it can: an agent sees who was there rather than a 503.
    private static readonly TimeSpan AssignmentWait = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Its own thread: Consume blocks, and a thread-pool thread parked in it would starve request handling. Run is
        // synchronous throughout (it waits for the rebuild): an await inside it would go on, after the rebuild's I/O, on
        // a pool thread and block that one in Consume for good.
        var consuming = Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await Task.WhenAll(consuming, LookUpVisitsAsync(stoppingToken));
    }

    // Returning or new, a second after joining: off the consumer thread, so a slow ClickHouse never holds presence up.
    private async Task LookUpVisitsAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await history.LookUpJoinedAsync(stoppingToken);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    // Those visitors stay "unknown" (null), which is what the API says it may be.
                    logger.LiveVisitsLookupFailed(error);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Whether the consumer loop follows the topic on a thread-pool thread (it must not); null until it starts following.</summary>
    internal bool? FollowsOnThreadPool { get; private set; }

    private void Run(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var bootstrap = settings.BootstrapServers is { Length: > 0 } own ? own : configuration["Kafka:BootstrapServers"] ?? "127.0.0.1:9092";
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"insights-live-{Environment.MachineName}-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Latest,
            // Presence only needs what happens now: a small fetch keeps a backlog from costing memory.
            MaxPartitionFetchBytes = Math.Max(settings.MaxMessageBytes, 256 * 1024),
            SessionTimeoutMs = 10_000,
            FetchWaitMaxMs = settings.FetchWait(configuration),
            // Presence reads the value and where it came from: the client need not copy every message's headers and
            // timestamp into objects (one message per event on the site, on the cores ingest and the processors use).
            ConsumeResultFields = "topic",
        };

        var assigned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Where this consumer goes on in each partition it has held: the offset after the last message it read, or the
        // end it was pinned to. Touched only on the consuming thread (the handler runs inside Consume).
        var positions = new Dictionary<TopicPartition, Offset>();
        using var consumer = new ConsumerBuilder<Ignore, LiveMessage>(config)
            .SetValueDeserializer(new LiveMessageDeserializer(settings.MaxMessageBytes))
            .SetPartitionsAssignedHandler((c, partitions) =>
            {
                assigned.TrySetResult();
                // A partition seen for the first time is pinned to the end now, before the rebuild reads ClickHouse;
                // one held before resumes where it was (see the remarks).
                return partitions.Select(p =>
                {
                    if (!positions.TryGetValue(p, out var next))
                    {
                        next = c.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High;
                        positions[p] = next;
                    }

                    return new TopicPartitionOffset(p, next);
                }).ToList();
            })
            .SetErrorHandler((_, error) => logger.LiveKafkaError(error.Code.ToString(), error.Reason))
            .Build();
        consumer.Subscribe(settings.Topic);

        try
        {
            if (settings.RebuildOnStart)
            {
                // Assignment happens inside Consume; nothing consumed before the rebuild can be applied out of order,
                // because the rebuild does not publish and the board keeps the latest state per visitor.
                var early = new List<ConsumeResult<Ignore, LiveMessage>>();
                var giveUp = DateTime.UtcNow + AssignmentWait;
                while (!assigned.Task.IsCompleted && !stoppingToken.IsCancellationRequested && DateTime.UtcNow < giveUp)
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } result)
                    {
                        positions[result.TopicPartition] = result.Offset + 1;
                        early.Add(result);
                    }
                }

                // Waited for on this thread, which has nothing else to do meanwhile; the rebuild's own I/O runs on the pool.
                RebuildAsync(settings, stoppingToken).GetAwaiter().GetResult();
                early.ForEach(Apply);
            }

            FollowsOnThreadPool = Thread.CurrentThread.IsThreadPoolThread;
            board.MarkReady();
            var lastSweep = DateTime.UtcNow;
            while (!stoppingToken.IsCancellationRequested)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(250)) is { } result)
                {
                    positions[result.TopicPartition] = result.Offset + 1;
                    Apply(result);
                }

                if (DateTime.UtcNow - lastSweep >= SweepEvery)
                {
                    board.Sweep();
                    lastSweep = DateTime.UtcNow;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Close();
        }
    }

    private async Task RebuildAsync(LiveOptions settings, CancellationToken stoppingToken)
    {
        try
        {
            var started = DateTime.UtcNow;
            var events = await rebuild.RunAsync(settings.IdleTimeout, stoppingToken);
            logger.LiveRebuilt(events, board.VisitorCount, (DateTime.UtcNow - started).TotalMilliseconds);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // Presence from the topic alone still beats none: people reappear with their next event.
            logger.LiveRebuildFailed(error);
        }
    }

    /// <summary>Applies each event of a message, decoded as it was consumed (<see cref="LiveMessageDeserializer"/>); a bad
    /// line is skipped and counted, and the message's other events still apply.</summary>
    private void Apply(ConsumeResult<Ignore, LiveMessage> result)
    {
        var message = result.Message.Value;
        foreach (var reason in message.Skipped)
        {
            metrics.Skipped(reason);
        }

        foreach (var e in message.Events)
        {
            metrics.Consumed();
            board.Apply(e);
        }
    }
}
