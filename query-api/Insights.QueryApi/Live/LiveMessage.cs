using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.QueryApi.Live;

/// <summary>
/// One message of the enriched topic as presence reads it: the events of its lines (<see cref="LiveEventCodec"/>) in
/// their order, and the reason for every line, or for the whole message, that was skipped.
/// </summary>
internal sealed class LiveMessage
{
    private List<string>? skipped;

    public List<LiveEvent> Events { get; } = [];

    /// <summary>One reason per skipped line, or one for the whole message (oversized, empty); a metric tag each.</summary>
    public IReadOnlyList<string> Skipped => skipped ?? (IReadOnlyList<string>)[];

    public void Skip(string reason) => (skipped ??= []).Add(reason);
}

/// <summary>
/// Decodes an enriched-topic message where the Kafka client holds it, inside <c>Consume</c>. Presence needs the events,
/// not the bytes: taking them as a byte array copied every message once more into the heap (about 600 bytes per event,
/// a quarter of what the query API allocated while the processors published a backlog), and each copy brought the
/// next collection closer. Never throws: a bad line is a reason, and the message's other lines still count.
/// </summary>
internal sealed class LiveMessageDeserializer(int maxBytes) : IDeserializer<LiveMessage>
{
    public LiveMessage Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
    {
        var message = new LiveMessage();
        if (isNull || data.Length > maxBytes)
        {
            message.Skip(isNull ? "undecodable" : "oversized");
            return message;
        }

        var lines = 0;
        foreach (var line in LiveEventCodec.Lines(data))
        {
            lines++;
            var decoded = LiveEventCodec.Decode(line);
            if (decoded.Event is { } e)
            {
                message.Events.Add(e);
            }
            else
            {
                message.Skip(decoded.Reason!);
            }
        }

        if (lines == 0)
        {
            message.Skip("undecodable");
        }

        return message;
    }
}
