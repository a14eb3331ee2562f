namespace Insights.DevStack.ClickHouse;

/// <summary>
/// Output formats as the HTTP layer sees them. chDB repeats a format's header (column names and types)
/// at the start of every streamed chunk; only formats whose header can be cut off exactly are streamed,
/// the rest (JSON, Pretty, Parquet, ...) are run buffered so clients always get one well-formed document.
/// </summary>
internal sealed class ResultFormat
{
    private enum HeaderKind
    {
        None,
        BinaryNames,
        BinaryNamesAndTypes,
        TextLines,
        Unstreamable,
    }

    private static readonly Dictionary<string, (HeaderKind Kind, int Lines, string ContentType)> Known =
        new(StringComparer.OrdinalIgnoreCase)
        {
            ["RowBinary"] = (HeaderKind.None, 0, "application/octet-stream"),
            ["RowBinaryWithNames"] = (HeaderKind.BinaryNames, 0, "application/octet-stream"),
            ["RowBinaryWithNamesAndTypes"] = (HeaderKind.BinaryNamesAndTypes, 0, "application/octet-stream"),
            ["Native"] = (HeaderKind.None, 0, "application/octet-stream"),
            ["TabSeparated"] = (HeaderKind.None, 0, "text/tab-separated-values; charset=UTF-8"),
            ["TSV"] = (HeaderKind.None, 0, "text/tab-separated-values; charset=UTF-8"),
            ["TabSeparatedRaw"] = (HeaderKind.None, 0, "text/tab-separated-values; charset=UTF-8"),
            ["TSVRaw"] = (HeaderKind.None, 0, "text/tab-separated-values; charset=UTF-8"),
            ["TabSeparatedWithNames"] = (HeaderKind.TextLines, 1, "text/tab-separated-values; charset=UTF-8"),
            ["TSVWithNames"] = (HeaderKind.TextLines, 1, "text/tab-separated-values; charset=UTF-8"),
            ["TabSeparatedWithNamesAndTypes"] = (HeaderKind.TextLines, 2, "text/tab-separated-values; charset=UTF-8"),
            ["TSVWithNamesAndTypes"] = (HeaderKind.TextLines, 2, "text/tab-separated-values; charset=UTF-8"),
            ["CSV"] = (HeaderKind.None, 0, "text/csv; charset=UTF-8; header=absent"),
            ["JSONEachRow"] = (HeaderKind.None, 0, "application/x-ndjson; charset=UTF-8"),
            ["JSONLines"] = (HeaderKind.None, 0, "application/x-ndjson; charset=UTF-8"),
            ["NDJSON"] = (HeaderKind.None, 0, "application/x-ndjson; charset=UTF-8"),
            ["JSONCompactEachRow"] = (HeaderKind.None, 0, "application/x-ndjson; charset=UTF-8"),
            ["JSONStringsEachRow"] = (HeaderKind.None, 0, "application/x-ndjson; charset=UTF-8"),
            ["JSON"] = (HeaderKind.Unstreamable, 0, "application/json; charset=UTF-8"),
            ["JSONCompact"] = (HeaderKind.Unstreamable, 0, "application/json; charset=UTF-8"),
            ["JSONStrings"] = (HeaderKind.Unstreamable, 0, "application/json; charset=UTF-8"),
            ["JSONColumns"] = (HeaderKind.Unstreamable, 0, "application/json; charset=UTF-8"),
            ["XML"] = (HeaderKind.Unstreamable, 0, "application/xml; charset=UTF-8"),
        };

    private readonly HeaderKind kind;
    private readonly int headerLines;

    private ResultFormat(string name, HeaderKind kind, int headerLines, string contentType)
    {
        Name = name;
        this.kind = kind;
        this.headerLines = headerLines;
        ContentType = contentType;
    }

    public string Name { get; }

    public string ContentType { get; }

    /// <summary>Whether chunks can be forwarded as they come (header cut from all but the first).</summary>
    public bool IsStreamable => kind != HeaderKind.Unstreamable;

    public static ResultFormat Of(string name) =>
        Known.TryGetValue(name, out var k)
            ? new ResultFormat(name, k.Kind, k.Lines, k.ContentType)
            : new ResultFormat(name, HeaderKind.Unstreamable, 0, "text/plain; charset=UTF-8");

    /// <summary>Length of the repeated header at the start of a streamed chunk.</summary>
    public int HeaderLength(ReadOnlySpan<byte> chunk) => kind switch
    {
        HeaderKind.BinaryNames => BinaryHeader(chunk, withTypes: false),
        HeaderKind.BinaryNamesAndTypes => BinaryHeader(chunk, withTypes: true),
        HeaderKind.TextLines => TextHeader(chunk, headerLines),
        _ => 0,
    };

    private static int BinaryHeader(ReadOnlySpan<byte> chunk, bool withTypes)
    {
        var position = 0;
        var columns = ReadVarUInt(chunk, ref position);
        var strings = withTypes ? columns * 2 : columns;
        for (ulong i = 0; i < strings; i++)
        {
            var length = ReadVarUInt(chunk, ref position);
            position = checked(position + (int)length);
        }

        return Math.Min(position, chunk.Length);
    }

    private static int TextHeader(ReadOnlySpan<byte> chunk, int lines)
    {
        var position = 0;
        for (var i = 0; i < lines && position < chunk.Length; i++)
        {
            var newline = chunk[position..].IndexOf((byte)'\n');
            position = newline < 0 ? chunk.Length : position + newline + 1;
        }

        return position;
    }

    private static ulong ReadVarUInt(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64 && position < data.Length; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        return value;
    }
}
