using System.Net;
using Microsoft.Extensions.Primitives;

namespace Insights.Ingest.Network;

/// <summary>
/// Finds the visitor's address: the direct peer, unless the peer is a trusted proxy, in which case
/// <c>X-Forwarded-For</c> is walked from the right (the entry the trusted proxy itself appended) past further
/// trusted proxies to the first address that is not one. Entries left of that were written by the client and
/// prove nothing.
/// </summary>
public sealed class ClientIpResolver
{
    private readonly IPNetwork[] trusted;

    public ClientIpResolver(IEnumerable<string> trustedProxies)
    {
        ArgumentNullException.ThrowIfNull(trustedProxies);
        trusted = trustedProxies
            .Select(entry => TryParseNetwork(entry, out var network)
                ? network
                : throw new ArgumentException($"'{entry}' is neither an IP address nor a CIDR range.", nameof(trustedProxies)))
            .ToArray();
    }

    public IPAddress? Resolve(IPAddress? peer, StringValues forwardedFor)
    {
        if (peer is null)
        {
            return null;
        }

        var client = Normalize(peer);
        if (!IsTrusted(client) || StringValues.IsNullOrEmpty(forwardedFor))
        {
            return client;
        }

        // Several header lines are one list, in order (RFC 9110 §5.3).
        for (var line = forwardedFor.Count - 1; line >= 0; line--)
        {
            var entries = forwardedFor[line].AsSpan();
            while (!entries.IsEmpty)
            {
                var comma = entries.LastIndexOf(',');
                var entry = entries[(comma + 1)..].Trim();
                entries = comma < 0 ? [] : entries[..comma];
                if (entry.IsEmpty)
                {
                    continue;
                }

                if (!TryParseAddress(entry, out var hop))
                {
                    // A hop we cannot read ends what we can know, as in ASP.NET Core's ForwardedHeadersMiddleware:
                    // the last address vouched for by a trusted proxy stands.
                    return client;
                }

                client = hop;
                if (!IsTrusted(client))
                {
                    return client;
                }
            }
        }

        return client;
    }

    /// <summary>IPv4 addresses arrive IPv4-mapped on dual-stack sockets (::ffff:1.2.3.4); store them as IPv4.</summary>
    public static IPAddress Normalize(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>An address ("10.0.0.1", "::1") or a CIDR range ("10.0.0.0/8").</summary>
    public static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        if (IPNetwork.TryParse(text.Trim(), out network))
        {
            return true;
        }

        if (IPAddress.TryParse(text.Trim(), out var address))
        {
            address = Normalize(address);
            network = new IPNetwork(address, address.GetAddressBytes().Length * 8);
            return true;
        }

        return false;
    }

    private bool IsTrusted(IPAddress address)
    {
        foreach (var network in trusted)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    // Proxies may append a port: "203.0.113.7:51234", "[2001:db8::1]:443".
    private static bool TryParseAddress(ReadOnlySpan<char> entry, out IPAddress address)
    {
        if (IPAddress.TryParse(entry, out var parsed) || (IPEndPoint.TryParse(entry, out var endPoint) && (parsed = endPoint.Address) is not null))
        {
            address = Normalize(parsed);
            return true;
        }

        address = IPAddress.None;
        return false;
    }
}
