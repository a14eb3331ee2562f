using Confluent.Kafka;
using Insights.Attribution;
using Insights.Processors.Consuming;
using Insights.Processors.Sessions;
using Microsoft.Extensions.Options;

namespace Insights.Processors;

/// <summary>
/// The processors' consumer group: each batch of <c>insights.events</c> is mapped, enriched, sessionized and written
/// (<see cref="BatchWriter"/>), and attributed (<see cref="AttributionStep"/>) from the same decoded events; its poison
/// messages are handed back to the loop for the dead-letter topic. The loop (<see cref="BatchConsumerLoop{THandler}"/>)
/// does the consuming, back-off, splitting and offsets.
/// </summary>
/// <remarks>
/// <para>A part of a split batch is a batch of its own here: mapped from its own messages, with its own deduplication token
/// (<see cref="EventBatch.DeduplicationToken"/>), so a retried or replayed part is recognised by ClickHouse and a part
/// is never confused with the whole.</para>
/// <para>Attribution runs beside the writer (it needs the decoded events only) and is awaited before the attempt ends,
/// failed or not: the engine serves one batch at a time. Its offsets (<see cref="AttributionProgress"/>) are recorded once
/// it is done, so they never claim more than was attributed.</para>
/// </remarks>
public sealed class EventBatchHandler(
    BatchWriter writer,
    Sessionizer sessionizer,
    IProducer<byte[]?, byte[]?> producer,
    PipelineHealth health,
    ProcessorMetrics metrics,
    IOptions<ProcessorOptions> options,
    AttributionStep? attribution = null,
    AttributionProgress? attributionProgress = null) : IBatchHandler
{
    private static readonly TimeSpan CommittedTimeout = TimeSpan.FromSeconds(10);

    public ConsumerGroup Group { get; } = new("processors", "insights-processors", options.Value, health, metrics.Consumer);

    public async Task<BatchResult> HandleAsync(ConsumedBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var timer = metrics.Consumer.Time("decode");
        var events = batch.State as EventBatch ?? new EventBatch(batch.Messages);
        timer.Stop();
        batch.State = events;
        var attributing = attribution is null || events.Attribution.Done
            ? Task.CompletedTask
            : Task.Run(() => attribution.AttributeAsync(events.Attribution, cancellationToken), CancellationToken.None);
        try
        {
            await writer.WriteAsync(events, cancellationToken);
        }
        catch
        {
            // The writer's error decides the retry; attribution must still be finished before the next attempt.
            await attributing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        await attributing;
        attributionProgress?.Record(batch.NextOffsets());
        var rejected = events.Rejections();
        return rejected.Count == 0 ? BatchResult.Done : new BatchResult(rejected);
    }

    /// <summary>
    /// Where attribution's offsets are behind the processors' (a processor upgraded from a version where attribution
    /// consumed on its own and lagged), reads again from there, so those events are attributed too.
    /// </summary>
    public IEnumerable<TopicPartitionOffset> PartitionsAssigned(IConsumer<byte[]?, byte[]?> consumer, IReadOnlyCollection<TopicPartition> partitions)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        if (attributionProgress is null || partitions.Count == 0)
        {
            return partitions.Select(p => new TopicPartitionOffset(p, Offset.Unset));
        }

        try
        {
            return attributionProgress.ResumeFrom(consumer.Committed(partitions, CommittedTimeout));
        }
        catch (KafkaException)
        {
            // The group's own offsets are unknown: start as the client would, after them.
            return partitions.Select(p => new TopicPartitionOffset(p, Offset.Unset));
        }
    }

    public void PartitionsRevoked(IReadOnlyCollection<TopicPartition> partitions)
    {
        sessionizer.Forget(partitions.Select(tp => tp.Partition.Value));
        attributionProgress?.Release(partitions);
    }

    /// <summary>Sends the enriched events still queued, and commits how far attribution got.</summary>
    public void Stopped()
    {
        producer.Flush(TimeSpan.FromSeconds(5));
        attributionProgress?.Commit();
    }
}
