using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.Ingest.Kafka;

/// <summary>An admitted batch → Kafka messages (<see cref="EventCodec.ToMessage"/>: key <c>site:visitor</c>, the value, no headers).</summary>
public static class EventMessageEncoder
{
    public static Message<byte[], byte[]>[] EncodeAll(List<PipelineEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var messages = new Message<byte[], byte[]>[events.Count];
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i] = EventCodec.ToMessage(events[i]);
        }

        return messages;
    }
}
