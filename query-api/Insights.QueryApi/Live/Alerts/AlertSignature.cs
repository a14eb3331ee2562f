using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Insights.QueryApi.Live.Alerts;

/// <summary>
/// The webhook signature: <c>X-Insights-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t." + body&gt;</c>,
/// keyed with the destination's secret. The time is signed with the body, so a captured request cannot be replayed
/// later than the receiver's tolerance.
/// </summary>
public static class AlertSignature
{
    public const string Header = "X-Insights-Signature";

    public static string Create(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return string.Create(CultureInfo.InvariantCulture, $"t={unixSeconds},v1={Hex(secret, unixSeconds, body)}");
    }

    /// <summary>
    /// What a receiver does (docs/alerts.md shows it): parse <c>t</c> and <c>v1</c>, recompute over the raw body, compare
    /// in constant time, and refuse a time further than <paramref name="tolerance"/> from now.
    /// </summary>
    public static bool Verify(string? header, string secret, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(secret);
        long? t = null;
        string? v1 = null;
        foreach (var part in (header ?? "").Split(','))
        {
            if (part.StartsWith("t=", StringComparison.Ordinal) && long.TryParse(part.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                t = parsed;
            }
            else if (part.StartsWith("v1=", StringComparison.Ordinal))
            {
                v1 = part[3..];
            }
        }

        if (t is not { } time || v1 is null || Math.Abs(now.ToUnixTimeSeconds() - time) > tolerance.TotalSeconds)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hex(secret, time, body)), Encoding.ASCII.GetBytes(v1));
    }

    private static string Hex(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.ASCII.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }
}
