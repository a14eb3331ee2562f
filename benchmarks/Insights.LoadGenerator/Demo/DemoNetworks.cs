using System.Buffers.Binary;
using System.Net;

namespace Insights.LoadGenerator.Demo;

/// <summary>A network a demo visitor comes from: its holder as the open ASN data names it, and the first address of a range it holds.</summary>
/// <param name="Holder">The AS holder's name in <c>@ip-location-db/asn</c>; for a business, the company name the enrichment shows.</param>
/// <param name="Start">An address inside the holder's range; visitors get addresses a little above it.</param>
/// <param name="Size">Addresses in the range from <paramref name="Start"/> that still belong to the holder.</param>
public sealed record DemoNetwork(string Holder, string Start, int Size)
{
    /// <summary>The <paramref name="n"/>-th visitor's address in this network: spread out, always inside the range.</summary>
    public string Address(int n)
    {
        var first = BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(Start).GetAddressBytes());
        var offset = (uint)(((long)n * 7919 + 11) % Math.Max(1, Size - 2)) + 1;
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, first + offset);
        return new IPAddress(bytes).ToString();
    }
}

/// <summary>
/// Real networks for the demo's visitors, picked from the open data <c>scripts/fetch-ipdata.sh</c> caches
/// (<c>@ip-location-db/asn</c>, CC BY 4.0): companies that hold their own address space, so the enrichment resolves a
/// visitor's address to the company as it would a real visitor's, and consumer ISPs, which it filters out as residential.
/// </summary>
/// <remarks>
/// The demo plays a server-side tag: it sends every event with the site's server key, the one key that may state the
/// visitor's address (<c>context.ip</c>). The load generator's tests resolve every address here through the real
/// enrichment, so a change of the data or of its classifier that turns one of them into something else fails there.
/// </remarks>
public static class DemoNetworks
{
    public static IReadOnlyList<DemoNetwork> Companies { get; } =
    [
        new("Ford Motor Company", "19.12.144.0", 65536),
        new("Merck and Co., Inc.", "54.48.0.0", 65536),
        new("The Procter and Gamble Company", "143.1.0.0", 65536),
        new("Pfizer Inc.", "148.168.128.0", 22528),
        new("Deere & Company", "204.53.0.0", 65536),
        new("Caterpillar, Inc.", "137.230.0.0", 65536),
        new("Koninklijke Philips N.V.", "130.138.224.0", 8192),
        new("Novartis AG", "160.62.1.0", 1792),
        new("Mercedes-Benz Group AG", "53.0.0.0", 65536),
        new("Eli Lilly and Company", "40.8.0.0", 65536),
        new("Massachusetts Institute of Technology", "18.3.0.0", 65536),
        new("Intel Corporation", "143.181.0.0", 65536),
        new("IKEA IT AB", "192.71.68.0", 512),
        new("Alberta Health Services", "139.48.0.0", 65536),
        new("Siemens Corporation", "146.122.0.0", 65536),
        new("Robert Bosch GmbH", "149.226.192.0", 2048),
        new("Nestle Operational Services Worldwide SA", "141.122.112.0", 8192),
        new("Unilever PLC", "193.17.128.0", 10752),
        new("JPMorgan Chase & Co.", "146.143.0.0", 65536),
    ];

    /// <summary>Consumer ISPs: most visitors; resolved, but never shown as a company.</summary>
    public static IReadOnlyList<DemoNetwork> Residential { get; } =
    [
        new("Comcast Cable Communications, LLC", "73.0.0.0", 1 << 20),
        new("Charter Communications Inc", "74.128.0.0", 1 << 19),
        new("Deutsche Telekom AG", "79.192.0.0", 1 << 20),
        new("British Telecommunications PLC", "86.128.0.0", 1 << 20),
        new("Orange S.A.", "90.0.0.0", 1 << 20),
        new("Free SAS", "82.224.0.0", 1 << 20),
        new("Bell Canada", "142.180.0.0", 1 << 19),
        new("Proximus NV", "109.128.0.0", 1 << 19),
        new("Swisscom (Schweiz) AG", "85.0.0.0", 1 << 19),
        new("KPN B.V.", "77.160.0.0", 1 << 19),
    ];
}
