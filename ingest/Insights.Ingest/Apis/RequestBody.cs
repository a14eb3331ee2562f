using System.Buffers;
using System.IO.Pipelines;

namespace Insights.Ingest.Apis;

/// <summary>
/// A request body read into one pooled buffer, never more than the limit: a body that outgrows it is refused
/// while it is read, so a client cannot make ingest buffer an unbounded stream.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    private byte[] buffer;
    private int length;
    private IDisposable? parsed;

    private RequestBody(byte[] buffer) => this.buffer = buffer;

    public ReadOnlyMemory<byte> Memory => buffer.AsMemory(0, length);

    /// <summary>The body, or null when it is larger than <paramref name="maxBytes"/>.</summary>
    public static async ValueTask<RequestBody?> ReadAsync(PipeReader reader, long? contentLength, int maxBytes, CancellationToken cancellationToken)
    {
        if (contentLength > maxBytes)
        {
            return null;
        }

        // Copying out of the pipe (instead of holding its segments) keeps Kestrel's per-connection buffer limit
        // out of the picture and gives the JSON parser one contiguous span.
        var body = new RequestBody(ArrayPool<byte>.Shared.Rent(contentLength is > 0 ? (int)contentLength.Value : 16 * 1024));
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken);
                var data = read.Buffer;
                if (body.length + data.Length > maxBytes)
                {
                    reader.AdvanceTo(data.End);
                    body.Dispose();
                    return null;
                }

                body.Append(data);
                reader.AdvanceTo(data.End);
                if (read.IsCompleted)
                {
                    return body;
                }
            }
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>Makes <paramref name="parsed"/> (documents that point into this body) go with the body when it is disposed.</summary>
    public void Adopt(IDisposable parsed) => this.parsed = parsed;

    public void Dispose()
    {
        parsed?.Dispose();
        parsed = null;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = [];
            length = 0;
        }
    }

    private void Append(in ReadOnlySequence<byte> data)
    {
        var needed = length + (int)data.Length;
        if (needed > buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, buffer.Length * 2));
            buffer.AsSpan(0, length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = larger;
        }

        data.CopyTo(buffer.AsSpan(length));
        length = needed;
    }
}
