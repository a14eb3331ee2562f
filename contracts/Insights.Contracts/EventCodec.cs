using System.Text;
using System.Text.Json;
using Confluent.Kafka;

namespace Insights.Contracts;

/// <summary>
/// The Kafka encoding of <see cref="PipelineEvent"/> on <c>insights.events</c>: key <c>site:visitor</c>, value UTF-8
/// JSON (snake_case) that names its own version (<c>v</c>), and no headers (<see cref="ToMessage"/>).
/// </summary>
/// <remarks>
/// Until 2026-12-07 every message also carried a <c>schema</c> and an <c>event_type</c> header. Nothing routed by them,
/// and Confluent.Kafka marshals each header to librdkafka per message (a key string encoded, two buffers pinned):
/// 13 % of ingest's sampled thread time (benchmarks/README.md, eighteenth round). Messages written before keep them and
/// read the same. A later envelope version names itself in
/// the <c>schema</c> header, and a reader refuses a message whose <c>schema</c> header is not <see cref="Schema"/> as
/// <c>unknown_version</c>, as it refuses a <c>v</c> other than 1.
/// </remarks>
public static class EventCodec
{
    public const string SchemaHeader = "schema";
    public const string Schema = "insights.event.v1";

    /// <summary>Dead-letter headers: why a message was refused and by whom.</summary>
    /// <summary>
    /// On a message an operator replayed (<c>insights-admin events replay</c>): where the original was,
    /// <c>partition:offset</c>. The processors write its event again but do not fold it into a session that already
    /// holds it, nor republish it for live presence.
    /// </summary>
    public const string ReplayHeader = "insights_replay";

    public const string DeadLetterReasonHeader = "dlq_reason";
    public const string DeadLetterDetailHeader = "dlq_detail";
    public const string DeadLetterSourceHeader = "dlq_source";

    /// <summary>Dead-letter headers: where the refused message was (its original topic, partition and offset).</summary>
    public const string DeadLetterTopicHeader = "dlq_topic";
    public const string DeadLetterPartitionHeader = "dlq_partition";
    public const string DeadLetterOffsetHeader = "dlq_offset";

    public static readonly byte[] SchemaValue = Encoding.ASCII.GetBytes(Schema);

    /// <summary>The value: UTF-8 JSON, non-ASCII text unescaped (<see cref="WireJson"/>).</summary>
    public static byte[] Encode(PipelineEvent e) => WireJson.Serialize(e, PipelineEventJson.Default.PipelineEvent);

    public static byte[] EncodeKey(PipelineEvent e) => Encoding.UTF8.GetBytes(e.PartitionKey);

    /// <summary>The event as every producer of <c>insights.events</c> writes it: its key and value, no headers.</summary>
    public static Message<byte[], byte[]> ToMessage(PipelineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new Message<byte[], byte[]> { Key = EncodeKey(e), Value = Encode(e) };
    }

    /// <summary>Decodes and checks the envelope; a message that fails is a poison message with the given reason.</summary>
    public static DecodeResult Decode(ReadOnlySpan<byte> value)
    {
        PipelineEvent? e;
        try
        {
            e = EventReader.Read(value);
        }
        catch (JsonException error)
        {
            return DecodeResult.Fail("undecodable", error.Message);
        }
        catch (InvalidOperationException error)
        {
            // Utf8JsonReader's word for a string that is not valid UTF-8 (or holds a lone surrogate escape).
            return DecodeResult.Fail("undecodable", error.Message);
        }

        if (e is null)
        {
            return DecodeResult.Fail("undecodable", "the value is JSON null");
        }

        if (e.V != 1)
        {
            return DecodeResult.Fail("unknown_version", $"envelope version {e.V} is not supported");
        }

        if (string.IsNullOrEmpty(e.EventId) || string.IsNullOrEmpty(e.SiteId) || string.IsNullOrEmpty(e.Type))
        {
            return DecodeResult.Fail("schema_invalid", "event_id, site_id and type are required");
        }

        if (!EventTypes.Known.Contains(e.Type))
        {
            return DecodeResult.Fail("unknown_type", $"event type '{e.Type}' is not known");
        }

        return new DecodeResult(e, null, null);
    }
}

/// <summary>A decoded event, or the reason it could not be decoded (a metric tag and a DLQ header).</summary>
public readonly record struct DecodeResult(PipelineEvent? Event, string? Reason, string? Detail)
{
    public static DecodeResult Fail(string reason, string detail) => new(null, reason, detail);
}
