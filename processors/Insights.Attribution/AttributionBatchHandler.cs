using System.Diagnostics;
using Confluent.Kafka;
using Insights.Attribution.Engine;
using Insights.Attribution.Storage;
using Insights.Contracts;
using Insights.Processors.Consuming;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Attribution;

/// <summary>
/// The I/O shell around <see cref="AttributionEngine"/>, as the attribution consumer group's batch handler: per batch
/// prepare → load the touched components from ClickHouse → compute → write. The loop
/// (<see cref="BatchConsumerLoop{THandler}"/>) consumes <c>insights.events</c> with this group's own offsets, backs
/// off on outages, splits batches refused for their contents and stores offsets. Every write is idempotent and
/// versioned, so replays change no number (see the engine's remarks).
/// </summary>
/// <remarks>Undecodable messages are skipped here (counted): the processors' group dead-letters them, once.</remarks>
public sealed class AttributionBatchHandler(
    AttributionEngine engine,
    ClickHouseFacts store,
    AttributionHealth health,
    AttributionMetrics metrics,
    IOptions<AttributionOptions> attributionOptions,
    ILogger<AttributionBatchHandler> logger) : IBatchHandler
{
    private readonly AttributionOptions options = attributionOptions.Value;

    /// <summary>Reads the values only: the schema and type headers are the processors' group's to check, and a replayed
    /// event is attributed as any other (every write is versioned).</summary>
    public ConsumerGroup Group { get; } = new("attribution", "insights-attribution", attributionOptions.Value, health, metrics.Consumer, ReadsHeaders: false);

    /// <summary>One attempt: prepare (once per batch), load, compute, write, then let the engine remember the stored links.</summary>
    public async Task<BatchResult> HandleAsync(ConsumedBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var started = Stopwatch.GetTimestamp();
        var timer = metrics.Consumer.Time("decode");
        var prepared = batch.State as PreparedBatch ?? Prepare(batch.Messages, ref timer);
        batch.State = prepared;
        timer.Next("load");
        var (facts, stats) = await ComponentLoader.LoadAsync(prepared, store, options.MaxComponentNodes, options.MaxLoadRounds, cancellationToken);
        if (stats.Truncated)
        {
            metrics.Truncated();
            LogMessages.ComponentTruncated(logger, stats.Nodes, stats.Rounds);
        }

        timer.Next("compute");
        var output = engine.Compute(prepared, facts);
        timer.Next("write");
        foreach (var (table, rows) in await store.WriteAsync(output, cancellationToken))
        {
            metrics.Written(table, rows);
        }

        engine.Commit(prepared);
        timer.Stop();
        metrics.Batch(Stopwatch.GetElapsedTime(started), stats.Nodes);
        return BatchResult.Done;
    }

    public void PartitionsRevoked(IReadOnlyCollection<TopicPartition> partitions)
    {
        // Nothing per partition: the engine's memory holds links already stored, valid whoever owns the partition.
    }

    public void Stopped()
    {
    }

    private PreparedBatch Prepare(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> messages, ref StageTimer timer)
    {
        var events = new List<PipelineEvent>(messages.Count);
        foreach (var message in messages)
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

        timer.Next("prepare");
        var result = engine.Prepare(events);
        foreach (var (reason, count) in result.Skipped)
        {
            metrics.Skipped(reason, count);
        }

        return result;
    }
}
