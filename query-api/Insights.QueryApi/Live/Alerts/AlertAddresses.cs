using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace Insights.QueryApi.Live.Alerts;

/// <summary>
/// Where alerts may go. A destination is a URL a site admin types, so without a rule the server would POST into its own
/// network (cloud metadata at 169.254.169.254, admin ports on loopback). Unless <see cref="AlertOptions.AllowPrivateAddresses"/>,
/// only public unicast addresses are used, over https. Checked when rules are saved (a clear 400) and again at every
/// connection, on the address actually dialled: a host name that later resolves to a private address (DNS rebinding)
/// is refused then.
/// </summary>
public static class AlertAddresses
{
    /// <summary>True for a public unicast address: not loopback, private, shared (CGNAT), link-local, unique-local, multicast or reserved.</summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return !(b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 100 && b[1] is >= 64 and < 128)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] is >= 16 and < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
                || (b[0] == 198 && b[1] is 18 or 19)
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                || (b[0] == 203 && b[1] == 0 && b[2] == 113));
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        Span<byte> v6 = stackalloc byte[16];
        address.TryWriteBytes(v6, out _);
        // NAT64 (64:ff9b::/96) carries an IPv4 address: judge that one.
        if (v6[..12].SequenceEqual((ReadOnlySpan<byte>)[0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]))
        {
            return IsPublic(new IPAddress(v6[12..]));
        }

        return !(IPAddress.IPv6Loopback.Equals(address) || IPAddress.IPv6None.Equals(address)
            || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal
            || (v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0x0d && v6[3] == 0xb8));
    }

    /// <summary>Why <paramref name="url"/> may not be a destination here (null when it may): scheme, then every address its host resolves to.</summary>
    public static async Task<string?> ProblemAsync(string url, bool allowPrivate, CancellationToken cancellationToken)
    {
        if (Insights.Contracts.AlertKinds.UrlProblem(url) is { } shape)
        {
            return shape;
        }

        var uri = new Uri(url);
        if (allowPrivate)
        {
            return null;
        }

        if (uri.Scheme != Uri.UriSchemeHttps)
        {
            return "must be https";
        }

        IPAddress[] addresses;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            addresses = IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return $"the host '{uri.IdnHost}' does not resolve";
        }

        return addresses.Length == 0 ? $"the host '{uri.IdnHost}' does not resolve"
            : addresses.All(IsPublic) ? null
            : $"the host '{uri.IdnHost}' is on a loopback, private or link-local address; alerts go to public addresses only";
    }

    /// <summary>
    /// The connection step of the alerts' HTTP handler: resolves the host and dials only addresses the policy allows, so
    /// the check and the connection use the same address.
    /// </summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> Connect(bool allowPrivate) => async (context, cancellationToken) =>
    {
        var host = context.DnsEndPoint.Host;
        var resolved = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = allowPrivate ? resolved : [.. resolved.Where(IsPublic)];
        if (allowed.Length == 0)
        {
            throw new BlockedAddressException($"blocked_address: {host} resolves to no public address");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    };
}

/// <summary>A destination whose host resolves only to addresses alerts may not use.</summary>
public sealed class BlockedAddressException(string message) : IOException(message);
