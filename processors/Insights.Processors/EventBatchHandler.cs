using Confluent.Kafka;
using Insights.Processors.Consuming;
using Insights.Processors.Sessions;
using Microsoft.Extensions.Options;

namespace Insights.Processors;

/// <summary>
/// The processors' consumer group: each batch of <c>insights.events</c> is mapped, enriched, sessionized and written
/// (<see cref="BatchWriter"/>); its poison messages are handed back to the loop for the dead-letter topic. The loop
/// (<see cref="BatchConsumerLoop{THandler}"/>) does the consuming, back-off, splitting and offsets.
/// </summary>
/// <remarks>
/// A part of a split batch is a batch of its own here: mapped from its own messages, with its own deduplication token
/// (<see cref="EventBatch.DeduplicationToken"/>), so a retried or replayed part is recognised by ClickHouse and a part
/// is never confused with the whole.
/// </remarks>
public sealed class EventBatchHandler(
    BatchWriter writer,
    Sessionizer sessionizer,
    IProducer<byte[]?, byte[]?> producer,
    PipelineHealth health,
    ProcessorMetrics metrics,
    IOptions<ProcessorOptions> options) : IBatchHandler
{
    public ConsumerGroup Group { get; } = new("processors", "insights-processors", options.Value, health, metrics.Consumer);

    public async Task<BatchResult> HandleAsync(ConsumedBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var timer = metrics.Consumer.Time("decode");
        var events = batch.State as EventBatch ?? new EventBatch(batch.Messages);
        timer.Stop();
        batch.State = events;
        await writer.WriteAsync(events, cancellationToken);
        var rejected = events.Rejections();
        return rejected.Count == 0 ? BatchResult.Done : new BatchResult(rejected);
    }

    public void PartitionsRevoked(IReadOnlyCollection<TopicPartition> partitions) =>
        sessionizer.Forget(partitions.Select(tp => tp.Partition.Value));

    /// <summary>Sends the enriched events still queued.</summary>
    public void Stopped() => producer.Flush(TimeSpan.FromSeconds(5));
}
