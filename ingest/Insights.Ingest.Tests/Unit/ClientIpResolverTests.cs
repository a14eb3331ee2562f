using System.Net;
using Insights.Ingest.Network;
using Microsoft.Extensions.Primitives;

namespace Insights.Ingest.Tests.Unit;

public sealed class ClientIpResolverTests
{
    private static readonly ClientIpResolver BehindProxies = new(["10.0.0.0/8", "192.168.1.1", "2001:db8::/32"]);

    private static string? Resolve(ClientIpResolver resolver, string? peer, params string[] forwardedFor) =>
        resolver.Resolve(peer is null ? null : IPAddress.Parse(peer), new StringValues(forwardedFor))?.ToString();

    [Fact]
    public void Without_trusted_proxies_the_peer_is_the_client_whatever_the_header_claims()
    {
        var direct = new ClientIpResolver([]);

        Assert.Equal("203.0.113.5", Resolve(direct, "203.0.113.5", "1.1.1.1"));
        Assert.Equal("203.0.113.5", Resolve(BehindProxies, "203.0.113.5", "1.1.1.1"));
    }

    [Fact]
    public void Behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client()
    {
        // The client forged "6.6.6.6"; the load balancer appended the address it saw, 198.51.100.7.
        Assert.Equal("198.51.100.7", Resolve(BehindProxies, "10.1.2.3", "6.6.6.6, 198.51.100.7"));
        // Through two trusted proxies.
        Assert.Equal("198.51.100.7", Resolve(BehindProxies, "10.1.2.3", "6.6.6.6, 198.51.100.7, 192.168.1.1"));
        // Several header lines are one list.
        Assert.Equal("198.51.100.7", Resolve(BehindProxies, "10.1.2.3", "6.6.6.6", "198.51.100.7", "10.9.9.9"));
    }

    [Fact]
    public void When_every_hop_is_trusted_the_leftmost_one_is_the_client() =>
        Assert.Equal("10.0.0.1", Resolve(BehindProxies, "10.1.2.3", "10.0.0.1, 10.0.0.2"));

    [Fact]
    public void A_trusted_proxy_without_a_header_is_itself_the_client() =>
        Assert.Equal("10.1.2.3", Resolve(BehindProxies, "10.1.2.3"));

    [Fact]
    public void An_unreadable_hop_stops_the_walk_at_the_last_vouched_address()
    {
        Assert.Equal("10.1.2.3", Resolve(BehindProxies, "10.1.2.3", "198.51.100.7, garbage"));
        Assert.Equal("10.0.0.9", Resolve(BehindProxies, "10.1.2.3", "198.51.100.7, <script>, 10.0.0.9"));
    }

    [Fact]
    public void Ports_brackets_and_ipv4_mapped_addresses_are_normalised()
    {
        Assert.Equal("198.51.100.7", Resolve(BehindProxies, "10.1.2.3", "198.51.100.7:51234"));
        Assert.Equal("2001:db9::1", Resolve(BehindProxies, "10.1.2.3", "[2001:db9::1]:443"));
        Assert.Equal("198.51.100.7", Resolve(BehindProxies, "::ffff:10.1.2.3", "::ffff:198.51.100.7"));
        Assert.Equal("203.0.113.5", Resolve(new ClientIpResolver([]), "::ffff:203.0.113.5"));
    }

    [Fact]
    public void Ipv6_proxies_are_trusted_by_range() =>
        Assert.Equal("198.51.100.7", Resolve(BehindProxies, "2001:db8::5", "198.51.100.7"));

    [Fact]
    public void No_peer_means_no_ip() => Assert.Null(Resolve(BehindProxies, null, "198.51.100.7"));

    [Theory]
    [InlineData("10.0.0.0/8", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::/8", true)]
    [InlineData("10.0.0.0/33", false)]
    [InlineData("proxy.internal", false)]
    [InlineData("", false)]
    public void Trusted_proxies_are_addresses_or_cidr_ranges(string entry, bool valid) =>
        Assert.Equal(valid, ClientIpResolver.TryParseNetwork(entry, out _));
}
