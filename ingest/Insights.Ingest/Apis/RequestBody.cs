using System.Buffers;
using System.IO.Compression;
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

    /// <summary>
    /// The inflated gzip body, or null when it inflates to more than <paramref name="maxBytes"/>: inflating stops at the
    /// first byte over the limit, so a bomb costs at most the limit. Invalid gzip data throws <see cref="InvalidDataException"/>.
    /// </summary>
    public static RequestBody? Gunzip(RequestBody compressed, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(compressed);
        using var source = new MemoryStream(compressed.buffer, 0, compressed.length, writable: false);
        using var gzip = new GZipStream(source, CompressionMode.Decompress);
        var limit = maxBytes + 1;
        var body = new RequestBody(ArrayPool<byte>.Shared.Rent(Math.Clamp(compressed.length * 4, 16 * 1024, limit)));
        try
        {
            while (true)
            {
                var room = Math.Min(body.buffer.Length, limit) - body.length;
                if (room == 0)
                {
                    body.Grow(Math.Min(limit, body.buffer.Length * 2));
                    continue;
                }

                var read = gzip.Read(body.buffer, body.length, room);
                if (read == 0)
                {
                    return body;
                }

                body.length += read;
                if (body.length > maxBytes)
                {
                    body.Dispose();
                    return null;
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
            Grow(Math.Max(needed, buffer.Length * 2));
        }

        data.CopyTo(buffer.AsSpan(length));
        length = needed;
    }

    private void Grow(int size)
    {
        var larger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = larger;
    }
}
