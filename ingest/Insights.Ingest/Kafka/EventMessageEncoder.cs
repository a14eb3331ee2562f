using System.Collections.Frozen;
using System.Text;
using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.Ingest.Kafka;

/// <summary>
/// <see cref="PipelineEvent"/> → Kafka message: key <c>site:visitor</c>, value and headers from <see cref="EventCodec"/>.
/// Header objects are immutable and shared by every message.
/// </summary>
public static class EventMessageEncoder
{
    private static readonly Header Schema = new(EventCodec.SchemaHeader, EventCodec.SchemaValue);

    private static readonly FrozenDictionary<string, Header> TypeHeaders = EventTypes.Known.ToFrozenDictionary(
        type => type, type => new Header(EventCodec.TypeHeader, Encoding.UTF8.GetBytes(type)), StringComparer.Ordinal);

    public static Message<byte[], byte[]> Encode(PipelineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new Message<byte[], byte[]>
        {
            Key = EventCodec.EncodeKey(e),
            Value = EventCodec.Encode(e),
            Headers = [Schema, TypeHeaders.GetValueOrDefault(e.Type) ?? new Header(EventCodec.TypeHeader, Encoding.UTF8.GetBytes(e.Type))],
        };
    }

    public static Message<byte[], byte[]>[] EncodeAll(List<PipelineEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var messages = new Message<byte[], byte[]>[events.Count];
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i] = Encode(events[i]);
        }

        return messages;
    }
}
