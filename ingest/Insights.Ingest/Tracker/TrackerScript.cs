using System.Buffers.Text;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Insights.Ingest.Tracker;

/// <summary>
/// A website script as served — the tracker (<c>Tracker/t.js</c>) or the invitation script (<c>Tracker/invite.js</c>),
/// embedded: minified once at start-up and held in every encoding ingest offers, so a request costs a header lookup and
/// a copy, never a compression.
/// </summary>
public sealed class TrackerScript
{
    /// <summary>The gzipped size the tracker must stay within (Plausible-class: a heavy script costs the site its visitors).
    /// 1.5 KB until the tracker kept refused events for the next page (≈ 100 bytes): losing a visit's page views whenever
    /// ingest pushes back was the worse trade.</summary>
    public const int GzipBudgetBytes = 1664;

    /// <summary>The gzipped size of the invitation script: loaded only by sites that invite, still small for a phone.</summary>
    public const int InvitationGzipBudgetBytes = 4096;

    public const string Tracker = "t.js";

    public const string Invitations = "invite.js";

    public TrackerScript(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Identity = Encoding.UTF8.GetBytes(Minify(source));
        Gzip = Compress(Identity, stream => new GZipStream(stream, CompressionLevel.SmallestSize));
        Brotli = Compress(Identity, stream => new BrotliStream(stream, CompressionLevel.SmallestSize));
        Version = Base64Url.EncodeToString(SHA256.HashData(Identity).AsSpan(0, 9));
    }

    /// <summary>The minified script, uncompressed.</summary>
    public byte[] Identity { get; }

    public byte[] Gzip { get; }

    public byte[] Brotli { get; }

    /// <summary>A digest of the script (12 URL-safe characters): its ETag, and the <c>?v=</c> that makes a URL immutable.</summary>
    public string Version { get; }

    /// <summary>A script embedded in this assembly: <see cref="Tracker"/> (the default) or <see cref="Invitations"/>.</summary>
    public static TrackerScript Load(string name = Tracker)
    {
        var resource = "Insights.Ingest.Tracker." + name;
        using var stream = typeof(TrackerScript).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The script is not embedded as {resource}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return new TrackerScript(reader.ReadToEnd());
    }

    /// <summary>
    /// A minifier for code written to its rules (stated at the top of t.js), so no JavaScript parser or npm build is
    /// needed: drops full-line comments, indentation and spaces that touch punctuation outside string literals, and
    /// joins a line to the previous one only where a line break cannot matter to automatic semicolon insertion.
    /// </summary>
    internal static string Minify(string source)
    {
        var output = new StringBuilder(source.Length);
        foreach (var raw in source.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            var squeezed = Squeeze(line);
            if (output.Length > 0 && !"{,;([=:?&|".Contains(output[^1], StringComparison.Ordinal) && !"})].:?".Contains(squeezed[0], StringComparison.Ordinal))
            {
                output.Append('\n');
            }

            output.Append(squeezed);
        }

        return output.ToString();
    }

    /// <summary>One line without the spaces a parser does not need: a space stays only between two word characters, or two + / two -.</summary>
    private static string Squeeze(string line)
    {
        var output = new StringBuilder(line.Length);
        var quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                output.Append(c);
                if (c == '\\' && i + 1 < line.Length)
                {
                    output.Append(line[++i]);
                }
                else if (c == quote)
                {
                    quote = '\0';
                }

                continue;
            }

            if (c is '\'' or '"' or '`')
            {
                quote = c;
            }
            else if (c is ' ' or '\t')
            {
                while (i + 1 < line.Length && line[i + 1] is ' ' or '\t')
                {
                    i++;
                }

                var before = output.Length > 0 ? output[^1] : '\0';
                var after = i + 1 < line.Length ? line[i + 1] : '\0';
                if (!(IsWord(before) && IsWord(after)) && !(before is '+' or '-' && before == after))
                {
                    continue;
                }
            }

            output.Append(c);
        }

        return output.ToString();
    }

    private static bool IsWord(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' || c > 127;

    private static byte[] Compress(byte[] data, Func<Stream, Stream> compressor)
    {
        using var buffer = new MemoryStream();
        using (var stream = compressor(buffer))
        {
            stream.Write(data);
        }

        return buffer.ToArray();
    }
}
