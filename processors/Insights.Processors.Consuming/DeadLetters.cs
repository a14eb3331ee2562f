using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.Processors.Consuming;

/// <summary>
/// Sends refused messages to the dead-letter topic, as consumed (key, value, original headers) plus why and where:
/// <c>dlq_reason</c>, <c>dlq_detail</c> (at most 1 KiB), <c>dlq_source</c> (the group's client), <c>dlq_stage</c>
/// (the step that refused it), and its position <c>dlq_topic</c>, <c>dlq_partition</c>, <c>dlq_offset</c>.
/// </summary>
public sealed class DeadLetters(IProducer<byte[]?, byte[]?> producer)
{
    /// <summary>The step that refused the message, e.g. <c>processors.decode</c> or <c>attribution.handle</c>.</summary>
    public const string StageHeader = "dlq_stage";

    private const int MaxDetailBytes = 1024;

    /// <summary>Delivers every rejection and waits for all acknowledgements: only then may their offsets be stored.</summary>
    internal async Task SendAsync(ConsumerGroup group, IReadOnlyList<Rejection> rejected, CancellationToken cancellationToken)
    {
        if (rejected.Count == 0)
        {
            return;
        }

        var deliveries = new Task[rejected.Count];
        for (var i = 0; i < rejected.Count; i++)
        {
            deliveries[i] = producer.ProduceAsync(group.Options.DeadLetterTopic, Letter(group.ClientName, rejected[i]), cancellationToken);
        }

        await Task.WhenAll(deliveries);
        foreach (var rejection in rejected)
        {
            group.Metrics.DeadLettered(rejection.Reason, rejection.Stage);
        }
    }

    /// <summary>Waits (bounded) for queued messages of the shared producer to be delivered; for shutdown.</summary>
    internal void Flush(TimeSpan timeout) => producer.Flush(timeout);

    internal static Message<byte[]?, byte[]?> Letter(string source, Rejection rejection)
    {
        var message = rejection.Message;
        var headers = new Headers();
        if (message.Message.Headers is { } original)
        {
            foreach (var header in original)
            {
                headers.Add(header.Key, header.GetValueBytes());
            }
        }

        headers.Add(EventCodec.DeadLetterReasonHeader, Encoding.UTF8.GetBytes(rejection.Reason));
        headers.Add(EventCodec.DeadLetterDetailHeader, Truncate(rejection.Detail ?? ""));
        headers.Add(EventCodec.DeadLetterSourceHeader, Encoding.UTF8.GetBytes(source));
        headers.Add(StageHeader, Encoding.UTF8.GetBytes(rejection.Stage));
        headers.Add(EventCodec.DeadLetterTopicHeader, Encoding.UTF8.GetBytes(message.Topic));
        headers.Add(EventCodec.DeadLetterPartitionHeader, Encoding.UTF8.GetBytes(message.Partition.Value.ToString(CultureInfo.InvariantCulture)));
        headers.Add(EventCodec.DeadLetterOffsetHeader, Encoding.UTF8.GetBytes(message.Offset.Value.ToString(CultureInfo.InvariantCulture)));
        return new Message<byte[]?, byte[]?> { Key = message.Message.Key, Value = message.Message.Value, Headers = headers };
    }

    private static byte[] Truncate(string detail)
    {
        var bytes = Encoding.UTF8.GetBytes(detail);
        if (bytes.Length <= MaxDetailBytes)
        {
            return bytes;
        }

        // Cut on a character boundary so the header stays valid UTF-8.
        var cut = MaxDetailBytes;
        while (cut > 0 && (bytes[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        return bytes[..cut];
    }
}
