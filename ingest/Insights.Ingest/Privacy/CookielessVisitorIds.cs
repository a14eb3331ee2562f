using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Insights.Contracts;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Privacy;

/// <summary>
/// Visitor ids for cookieless sites, as Plausible derives them: <c>c-</c> + the first 22 base64url characters of
/// SHA-256(daily salt ‖ site ‖ IP ‖ user agent). The same browser on the same network gets the same id all day (UTC),
/// another tomorrow; the id cannot be reversed without the salt, and the salt of a past day is not kept anywhere.
/// </summary>
public sealed class CookielessVisitorIds(TimeProvider time, IOptions<PrivacyOptions> options)
{
    public const string Prefix = "c-";

    private readonly byte[]? seed = options.Value.CookielessSeed is { Length: > 0 } text ? Encoding.UTF8.GetBytes(text) : null;
    private readonly Lock rotation = new();
    private DailySalt? current;

    /// <summary>The visitor id for a request to <paramref name="siteId"/> from <paramref name="ip"/> with <paramref name="userAgent"/>.</summary>
    public string Derive(string siteId, string? ip, string? userAgent)
    {
        ArgumentNullException.ThrowIfNull(siteId);
        var salt = SaltFor(DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));

        // Zero bytes separate the parts, so ("ab", "c") and ("a", "bc") never hash alike.
        var length = salt.Length + Encoding.UTF8.GetByteCount(siteId) + Encoding.UTF8.GetByteCount(ip ?? "")
            + Encoding.UTF8.GetByteCount(userAgent ?? "") + 2;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var span = buffer.AsSpan();
            salt.CopyTo(span);
            var written = salt.Length;
            written += Encoding.UTF8.GetBytes(siteId, span[written..]);
            span[written++] = 0;
            written += Encoding.UTF8.GetBytes(ip ?? "", span[written..]);
            span[written++] = 0;
            written += Encoding.UTF8.GetBytes(userAgent ?? "", span[written..]);

            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(span[..written], hash);
            Span<char> encoded = stackalloc char[Base64Url.GetEncodedLength(SHA256.HashSizeInBytes)];
            Base64Url.EncodeToChars(hash, encoded);
            // 22 characters carry 132 bits: collisions stay negligible at billions of visitors a day.
            return string.Concat(Prefix, encoded[..22]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>
    /// Replaces the visitor id of a browser request's events: a cookieless site's visitors are who the server says,
    /// whatever an old or misconfigured snippet sent. One hash per request, not per event.
    /// </summary>
    public void Apply(List<PipelineEvent> events, string siteId, string? ip, string? userAgent)
    {
        ArgumentNullException.ThrowIfNull(events);
        var id = Derive(siteId, ip, userAgent);
        for (var i = 0; i < events.Count; i++)
        {
            events[i] = events[i] with { AnonymousId = id };
        }
    }

    private byte[] SaltFor(DateOnly day)
    {
        if (current is { } salt && salt.Day == day)
        {
            return salt.Bytes;
        }

        // Rotation happens once a day; the lock makes every request of the new day use one salt, even a random one.
        lock (rotation)
        {
            if (current is not { } now || now.Day != day)
            {
                // The previous salt is only dropped, never written anywhere: yesterday's ids cannot be recomputed.
                current = now = new DailySalt(day, seed is null
                    ? RandomNumberGenerator.GetBytes(32)
                    : HMACSHA256.HashData(seed, Encoding.UTF8.GetBytes("insights/cookieless/" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))));
            }

            return now.Bytes;
        }
    }

    private sealed record DailySalt(DateOnly Day, byte[] Bytes);
}
