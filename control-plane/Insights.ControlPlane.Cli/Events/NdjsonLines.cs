namespace Insights.ControlPlane.Cli.Events;

/// <summary>One line of an NDJSON file: its 1-based number, where it ends in the file (after its newline), and its bytes.</summary>
/// <remarks>A line longer than the bound is not held: <see cref="TooLong"/> is set, <see cref="Bytes"/> is empty and
/// <see cref="Length"/> says how long it was.</remarks>
public readonly record struct RawLine(long Number, long End, ReadOnlyMemory<byte> Bytes, long Length, bool TooLong);

/// <summary>
/// Reads a stream line by line with a fixed buffer: memory is bounded by the longest line allowed, whatever the file
/// holds (a file without newlines is one too-long line, read through, never buffered). <c>\r\n</c> and a leading UTF-8
/// byte-order mark are accepted. The bytes of a returned line are valid until the next call.
/// </summary>
public sealed class NdjsonLines
{
    private readonly Stream stream;
    private readonly int maxLineBytes;
    private readonly byte[] buffer;
    private int start;
    private int end;
    private bool eof;
    private long offset;
    private long number;

    /// <param name="stream">Positioned at <paramref name="startOffset"/>, the start of line <paramref name="startLine"/>.</param>
    public NdjsonLines(Stream stream, int maxLineBytes, long startOffset = 0, long startLine = 1)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 1);
        this.stream = stream;
        this.maxLineBytes = maxLineBytes;
        buffer = new byte[Math.Max(64 * 1024, maxLineBytes + 1)];
        offset = startOffset;
        number = startLine - 1;
    }

    public bool TryRead(out RawLine line)
    {
        while (true)
        {
            var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                line = Take(newline, newline + 1);
                return true;
            }

            if (end - start > maxLineBytes)
            {
                line = SkipTooLong();
                return true;
            }

            if (eof)
            {
                if (end > start)
                {
                    line = Take(end - start, end - start);
                    return true;
                }

                line = default;
                return false;
            }

            Fill();
        }
    }

    private RawLine Take(int length, int consumed)
    {
        var content = buffer.AsMemory(start, length);
        if (content.Span is [.., (byte)'\r'])
        {
            content = content[..^1];
        }

        if (offset == 0 && content.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            content = content[3..];
        }

        start += consumed;
        offset += consumed;
        return content.Length > maxLineBytes
            ? new RawLine(++number, offset, ReadOnlyMemory<byte>.Empty, content.Length, TooLong: true)
            : new RawLine(++number, offset, content, content.Length, TooLong: false);
    }

    /// <summary>Reads through the rest of an oversized line without keeping it.</summary>
    private RawLine SkipTooLong()
    {
        long length = 0;
        while (true)
        {
            var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            var taken = newline >= 0 ? newline + 1 : end - start;
            length += newline >= 0 ? newline : taken;
            start += taken;
            offset += taken;
            if (newline >= 0 || (eof && start == end))
            {
                return new RawLine(++number, offset, ReadOnlyMemory<byte>.Empty, length, TooLong: true);
            }

            Fill();
        }
    }

    private void Fill()
    {
        if (start > 0)
        {
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            start = 0;
        }

        var read = stream.Read(buffer, end, buffer.Length - end);
        if (read == 0)
        {
            eof = true;
        }

        end += read;
    }
}
