using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Insights.Ingest.Webhooks;

/// <summary>The two ways the platforms prove a webhook is theirs, each compared in constant time.</summary>
public static class WebhookSignatures
{
    /// <summary>
    /// Shopify and WooCommerce: <paramref name="signature"/> is base64(HMAC-SHA256(secret, the raw body bytes)).
    /// Computed over the bytes as received, never over re-serialised JSON (WordPress writes "\/", for one).
    /// </summary>
    public static bool IsValidHmac(ReadOnlySpan<byte> body, string secret, string signature)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(signature);
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, expected);

        // Decoded into a buffer of the digest's size plus slack: a longer "signature" cannot be right, and must not
        // cost more than a right one.
        var trimmed = signature.AsSpan().Trim();
        if (trimmed.Length > 64)
        {
            return false;
        }

        Span<byte> ascii = stackalloc byte[64];
        Span<byte> presented = stackalloc byte[48];
        var length = Encoding.ASCII.GetBytes(trimmed, ascii);
        return Base64.DecodeFromUtf8(ascii[..length], presented, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == expected.Length
            && CryptographicOperations.FixedTimeEquals(presented[..written], expected);
    }

    /// <summary>
    /// LiveChat: the registered secret echoed in the body's <c>secret_key</c>. Both sides are hashed first, so the
    /// comparison takes the same time whatever the presented value's length.
    /// </summary>
    public static bool IsSameSecret(string presented, string secret)
    {
        ArgumentNullException.ThrowIfNull(presented);
        return IsSameSecret(Encoding.UTF8.GetBytes(presented), secret);
    }

    /// <summary>The same, for the UTF-8 bytes of the presented value (as a JSON reader unescapes them).</summary>
    public static bool IsSameSecret(ReadOnlySpan<byte> presented, string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        Span<byte> a = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> b = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(presented, a);
        SHA256.HashData(Encoding.UTF8.GetBytes(secret), b);
        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    /// <summary>base64(HMAC-SHA256(secret, body)): what a platform sends, for tests and tooling.</summary>
    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}
