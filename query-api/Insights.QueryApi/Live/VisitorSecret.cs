using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Insights.QueryApi.Live;

/// <summary>
/// A visitor's proof of who it is. The tracker (<c>t.js</c>) makes a new visitor's id from 32 random bytes it keeps in
/// the browser: the id is the first 16 bytes of their SHA-256, as four little-endian 32-bit words each written in base 36
/// (lower case, no padding), the way it writes random ids. The page sends the bytes as eight decimal words,
/// comma-separated (a <c>Uint32Array</c>'s text); the channel derives the id itself, so knowing a visitor's id — agents,
/// partners and exports see them — is not enough to receive that visitor's invitations.
/// </summary>
public static class VisitorSecret
{
    /// <summary>The longest well-formed secret: eight words of up to ten digits and seven commas.</summary>
    public const int MaxLength = 8 * 10 + 7;

    private const int Words = 8;

    /// <summary>The visitor id <paramref name="secret"/> proves, or null when it is not a secret's text.</summary>
    public static string? Derive(ReadOnlySpan<char> secret)
    {
        secret = secret.Trim();
        if (secret.Length > MaxLength)
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[Words * 4];
        var word = 0;
        foreach (var range in secret.Split(','))
        {
            if (word == Words || !uint.TryParse(secret[range], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            BinaryPrimitives.WriteUInt32LittleEndian(bytes[(word++ * 4)..], value);
        }

        if (word != Words)
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes, hash);
        var id = new StringBuilder(28);
        for (var i = 0; i < 4; i++)
        {
            AppendBase36(id, BinaryPrimitives.ReadUInt32LittleEndian(hash[(i * 4)..]));
        }

        return id.ToString();
    }

    /// <summary>A secret's text for <paramref name="words"/> (what a page sends), for tests and tools.</summary>
    public static string Format(ReadOnlySpan<uint> words) =>
        string.Join(',', words.ToArray().Select(w => w.ToString(CultureInfo.InvariantCulture)));

    private static void AppendBase36(StringBuilder builder, uint value)
    {
        Span<char> digits = stackalloc char[7];
        var at = digits.Length;
        do
        {
            var digit = (int)(value % 36);
            digits[--at] = (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);
            value /= 36;
        }
        while (value > 0);

        builder.Append(digits[at..]);
    }
}
