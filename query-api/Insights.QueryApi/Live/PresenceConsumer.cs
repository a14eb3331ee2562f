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
/// </remarks>
public sealed class PresenceConsumer(
    PresenceBoard board, PresenceRebuild rebuild, LiveMetrics metrics, IOptions<LiveOptions> options, IConfiguration configuration,
    ILogger<PresenceConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(1);

    // Its own thread: Consume blocks, and a thread-pool thread parked in it would starve request handling.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task Run(CancellationToken stoppingToken)
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
        };

        var assigned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetPartitionsAssignedHandler((c, partitions) =>
            {
                assigned.TrySetResult();
                // Pinned to the end now, before the rebuild reads ClickHouse (see the remarks).
                return partitions.Select(p => new TopicPartitionOffset(p, c.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High));
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
                var early = new List<ConsumeResult<byte[]?, byte[]?>>();
                while (!assigned.Task.IsCompleted && !stoppingToken.IsCancellationRequested)
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } result)
                    {
                        early.Add(result);
                    }
                }

                await RebuildAsync(settings, stoppingToken);
                early.ForEach(Apply);
            }

            board.MarkReady();
            var lastSweep = DateTime.UtcNow;
            while (!stoppingToken.IsCancellationRequested)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(250)) is { } result)
                {
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

    private void Apply(ConsumeResult<byte[]?, byte[]?> result)
    {
        var value = result.Message.Value;
        if (value is null || value.Length > options.Value.MaxMessageBytes)
        {
            metrics.Skipped(value is null ? "undecodable" : "oversized");
            return;
        }

        var decoded = LiveEventCodec.Decode(value);
        if (decoded.Event is not { } e)
        {
            metrics.Skipped(decoded.Reason!);
            return;
        }

        metrics.Consumed();
        board.Apply(e);
    }
}
