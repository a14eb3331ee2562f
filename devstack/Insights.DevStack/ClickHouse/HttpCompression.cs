using System.IO.Compression;
using K4os.Compression.LZ4.Streams;
using ZstdSharp;

namespace Insights.DevStack.ClickHouse;

/// <summary>The HTTP content encodings ClickHouse's HTTP interface speaks, both ways.</summary>
internal static class HttpCompression
{
    // In ClickHouse's order of preference when a client accepts several.
    private static readonly string[] Supported = ["zstd", "lz4", "br", "gzip", "deflate"];

    public static Stream DecodeRequest(Stream body, string? contentEncoding) => contentEncoding?.Trim().ToLowerInvariant() switch
    {
        null or "" or "identity" or "none" => body,
        "gzip" or "x-gzip" => new GZipStream(body, CompressionMode.Decompress, leaveOpen: true),
        "deflate" => new ZLibStream(body, CompressionMode.Decompress, leaveOpen: true),
        "br" => new BrotliStream(body, CompressionMode.Decompress, leaveOpen: true),
        "zstd" => new DecompressionStream(body, leaveOpen: true),
        "lz4" => LZ4Stream.Decode(body, leaveOpen: true),
        var other => throw new ChdbException(89,
            $"Code: 89. DB::Exception: Unknown HTTP Content-Encoding '{other}': supported are {string.Join(", ", Supported)}, identity. (UNKNOWN_COMPRESSION_METHOD)"),
    };

    /// <summary>The encoding to answer with: the first of ours the client lists in Accept-Encoding.</summary>
    public static string? Choose(string? acceptEncoding)
    {
        if (string.IsNullOrWhiteSpace(acceptEncoding))
        {
            return null;
        }

        foreach (var part in acceptEncoding.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var name = part.Split(';', 2)[0].Trim().ToLowerInvariant();
            if (Array.IndexOf(Supported, name) >= 0)
            {
                return name;
            }
        }

        return null;
    }

    public static Stream EncodeResponse(Stream body, string encoding) => encoding switch
    {
        "gzip" => new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true),
        "deflate" => new ZLibStream(body, CompressionLevel.Fastest, leaveOpen: true),
        "br" => new BrotliStream(body, CompressionLevel.Fastest, leaveOpen: true),
        "zstd" => new CompressionStream(body, level: 1, leaveOpen: true),
        "lz4" => LZ4Stream.Encode(body, leaveOpen: true),
        _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "not a supported encoding"),
    };
}
