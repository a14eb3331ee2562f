using System.Security.Cryptography;
using System.Text;

namespace Insights.Contracts;

/// <summary>
/// The join key for a person's e-mail address: SHA-256, lower-case hex, of the trimmed and lower-cased address (the
/// normalisation ad platforms use for hashed e-mails, so the same person matches across sources). The address itself
/// never leaves ingest; the query API hashes a subject request's address with the same function to find the person.
/// </summary>
public static class EmailHash
{
    private const int MaxLength = 254;

    /// <summary>The hash, or null when <paramref name="email"/> is not plausibly an address (one '@' inside, no spaces).</summary>
    public static string? Of(string? email)
    {
        var trimmed = email.AsSpan().Trim();
        if (trimmed.Length is < 3 or > MaxLength)
        {
            return null;
        }

        var at = trimmed.IndexOf('@');
        if (at <= 0 || at == trimmed.Length - 1 || trimmed[(at + 1)..].Contains('@'))
        {
            return null;
        }

        foreach (var c in trimmed)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return null;
            }
        }

        Span<char> lower = stackalloc char[trimmed.Length];
        trimmed.ToLowerInvariant(lower);
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(lower.Length)];
        var written = Encoding.UTF8.GetBytes(lower, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..written], hash);
        return Convert.ToHexStringLower(hash);
    }
}
