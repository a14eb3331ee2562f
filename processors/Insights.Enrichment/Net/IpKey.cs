using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Insights.Enrichment.Net;

/// <summary>
/// An address as every lookup table wants it: IPv4 as a 32-bit number (IPv4-mapped IPv6 folded in, so
/// <c>::ffff:1.2.3.4</c> finds what <c>1.2.3.4</c> finds), IPv6 as a 128-bit number.
/// </summary>
internal readonly record struct IpKey(bool IsV4, uint V4, UInt128 V6)
{
    /// <summary>The longest text form of an address (IPv6 with an embedded IPv4 and a scope); anything longer is not one.</summary>
    public const int MaxTextLength = 64;

    /// <summary>
    /// Parses an address strictly: dotted-quad IPv4 or IPv6 text. The legacy forms IPAddress also accepts
    /// (<c>"1"</c>, <c>"1.2"</c>, <c>"0x7f.1"</c>) and surrounding junk are refused: they are not what a client
    /// connection or a sender's <c>context.ip</c> looks like, and guessing would attribute visits to wrong companies.
    /// </summary>
    public static bool TryParse(string? text, out IpKey key, out IPAddress? address)
    {
        key = default;
        address = null;
        if (string.IsNullOrEmpty(text) || text.Length > MaxTextLength)
        {
            return false;
        }

        var isV6Text = text.Contains(':', StringComparison.Ordinal);
        if (isV6Text ? !IsIPv6Text(text) : !IsDottedQuad(text))
        {
            return false;
        }

        if (!IPAddress.TryParse(text, out var parsed))
        {
            return false;
        }

        if (parsed.AddressFamily == AddressFamily.InterNetworkV6 && parsed.IsIPv4MappedToIPv6)
        {
            parsed = parsed.MapToIPv4();
        }
        else if (parsed.AddressFamily == AddressFamily.InterNetworkV6 && parsed.ScopeId != 0)
        {
            // A zone index (fe80::1%eth0) names an interface of the sender's machine: meaningless here.
            Span<byte> raw = stackalloc byte[16];
            parsed.TryWriteBytes(raw, out _);
            parsed = new IPAddress(raw);
        }

        Span<byte> bytes = stackalloc byte[16];
        parsed.TryWriteBytes(bytes, out var written);
        key = written == 4
            ? new IpKey(true, BinaryPrimitives.ReadUInt32BigEndian(bytes), 0)
            : new IpKey(false, 0, BinaryPrimitives.ReadUInt128BigEndian(bytes));
        address = parsed;
        return true;
    }

    /// <summary>The network part only: IPv4 /24, IPv6 /48 (what Google Analytics and Matomo keep).</summary>
    public IpKey Truncated() => IsV4
        ? new IpKey(true, V4 & 0xFFFF_FF00u, 0)
        : new IpKey(false, 0, V6 & (UInt128.MaxValue << 80));

    public IPAddress ToAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        if (IsV4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, V4);
            return new IPAddress(bytes[..4]);
        }

        BinaryPrimitives.WriteUInt128BigEndian(bytes, V6);
        return new IPAddress(bytes);
    }

    /// <summary>Hex digits, colons and dots, optionally a non-empty zone (<c>%eth0</c>): no brackets, ports or prefixes.</summary>
    private static bool IsIPv6Text(string text)
    {
        var zone = text.IndexOf('%', StringComparison.Ordinal);
        var address = zone < 0 ? text.AsSpan() : text.AsSpan(0, zone);
        foreach (var c in address)
        {
            if (!(char.IsAsciiHexDigit(c) || c is ':' or '.'))
            {
                return false;
            }
        }

        if (zone < 0)
        {
            return true;
        }

        var name = text.AsSpan(zone + 1);
        if (name.IsEmpty)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Four groups of 1-3 decimal digits, no leading zero (IPAddress would read <c>010</c> as octal 8).</summary>
    private static bool IsDottedQuad(string text)
    {
        var dots = 0;
        var digits = 0;
        var leadingZero = false;
        foreach (var c in text)
        {
            if (c == '.')
            {
                if (digits == 0)
                {
                    return false;
                }

                dots++;
                digits = 0;
            }
            else if (char.IsAsciiDigit(c) && ++digits <= 3 && !(digits > 1 && leadingZero))
            {
                leadingZero = digits == 1 && c == '0';
            }
            else
            {
                return false;
            }
        }

        return dots == 3 && digits > 0;
    }
}
