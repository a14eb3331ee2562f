using System.Buffers;
using System.Text.Json;

namespace Insights.Contracts;

/// <summary>
/// Packs live events into <see cref="Topics.Enriched"/> messages of at most <see cref="MaxBytes"/> each, one event per
/// line (<see cref="LiveEventCodec"/>). Per message, Kafka costs the producer an object, its headers marshalled to the
/// client library, a delivery report, and the broker and every presence reader a record to track; bundled, those
/// costs are paid once for dozens of events.
/// </summary>
/// <remarks>
/// An event larger than <see cref="MaxBytes"/> goes out alone, as it would unbundled: the reader's own limit
/// (<c>Live:MaxMessageBytes</c>) decides what it accepts. Not thread-safe: one bundle per writer at a time.
/// </remarks>
public sealed class LiveEventBundle
{
    private readonly ArrayBufferWriter<byte> message;
    private readonly ArrayBufferWriter<byte> line = new(2048);
    private readonly Utf8JsonWriter json;

    public LiveEventBundle(int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1024);
        MaxBytes = maxBytes;
        message = new ArrayBufferWriter<byte>(maxBytes);
        json = new Utf8JsonWriter(line, WireJson.Relaxed);
    }

    /// <summary>The most bytes of a message holding more than one event.</summary>
    public int MaxBytes { get; }

    /// <summary>Events in the message being filled.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Adds an event after the ones added before. Returns the message it completed, if it did not fit there (the event
    /// then begins the next message), else null.
    /// </summary>
    public byte[]? Add(LiveEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        line.ResetWrittenCount();
        json.Reset(line);
        LiveEventCodec.Write(json, e);
        json.Flush();
        var completed = Count > 0 && message.WrittenCount + 1 + line.WrittenCount > MaxBytes ? Complete() : null;
        if (Count > 0)
        {
            message.Write([LiveEventCodec.Separator]);
        }

        message.Write(line.WrittenSpan);
        Count++;
        return completed;
    }

    /// <summary>The message being filled, or null when it holds nothing; the next event begins a new one.</summary>
    public byte[]? Complete()
    {
        if (Count == 0)
        {
            return null;
        }

        var value = message.WrittenSpan.ToArray();
        message.ResetWrittenCount();
        Count = 0;
        return value;
    }
}
