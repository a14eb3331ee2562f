using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Insights.Contracts;

/// <summary>
/// Writes a Kafka value with a source-generated contract's fast path, into a writer that leaves non-ASCII text as
/// UTF-8. Our topics are read by our consumers only, never embedded in HTML, so HTML-safe escaping would only turn
/// every non-ASCII character into <c>\uXXXX</c> (up to twice the bytes for CJK text, and more CPU per event).
/// </summary>
/// <remarks>
/// The escaping belongs to the writer, not to the serializer options: options with their own encoder no longer match
/// the ones the contract was generated for, and System.Text.Json then falls back from the generated writer to its
/// metadata-driven one (a write stack per value). The names are plain ASCII, so they come out the same either way;
/// <c>EventCodecWireTests</c> compares the two byte for byte.
/// </remarks>
internal static class WireJson
{
    private const int KeptBufferBytes = 64 * 1024;

    internal static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? writer;

    public static byte[] Serialize<T>(T value, JsonTypeInfo<T> type)
    {
        var output = buffer ??= new ArrayBufferWriter<byte>(1024);
        var json = writer ??= new Utf8JsonWriter(output, Relaxed);
        try
        {
            JsonSerializer.Serialize(json, value, type);
            return output.WrittenSpan.ToArray();
        }
        finally
        {
            if (output.Capacity > KeptBufferBytes)
            {
                // One huge value does not pin its buffer to this thread for good.
                buffer = null;
                writer = null;
            }
            else
            {
                output.ResetWrittenCount();
                json.Reset(output);
            }
        }
    }
}
