using Insights.Enrichment.Net;

namespace Insights.Enrichment.Company;

/// <summary>
/// The user's own IP ranges → company: the source that always wins. Nested blocks resolve to the most specific one
/// (10.0.0.0/8 "Acme" with 10.1.0.0/16 "Acme Labs"), and a lookup is one binary search per family.
/// </summary>
internal sealed class CompanyRanges
{
    private readonly RangeTable<uint, CompanyMatch> v4;
    private readonly RangeTable<UInt128, CompanyMatch> v6;

    private CompanyRanges(RangeTable<uint, CompanyMatch> v4, RangeTable<UInt128, CompanyMatch> v6)
    {
        this.v4 = v4;
        this.v6 = v6;
    }

    public static CompanyRanges Empty { get; } = new(RangeTable<uint, CompanyMatch>.Empty, RangeTable<UInt128, CompanyMatch>.Empty);

    public int Count => v4.Count + v6.Count;

    public CompanyMatch? Find(in IpKey key) =>
        key.IsV4 ? (v4.Count == 0 ? null : v4.Find(key.V4)) : (v6.Count == 0 ? null : v6.Find(key.V6));

    public static CompanyRanges Build(IEnumerable<CompanyRangeOptions> ranges)
    {
        var v4 = new List<(uint, uint, CompanyMatch)>();
        var v6 = new List<(UInt128, UInt128, CompanyMatch)>();
        foreach (var range in ranges)
        {
            if (!TryParseCidr(range.Cidr, out var isV4, out var start, out var end))
            {
                throw new FormatException($"'{range.Cidr}' is not an IP address or CIDR block");
            }

            var match = new CompanyMatch(range.Company.Trim(), string.IsNullOrWhiteSpace(range.Domain) ? null : range.Domain.Trim().ToLowerInvariant(),
                CompanySources.UserRanges, 1f, true, NetworkKinds.Business, null)
            {
                KindReason = $"user range {range.Cidr.Trim()}",
                DomainSource = string.IsNullOrWhiteSpace(range.Domain) ? null : CompanySources.UserRanges,
            };
            if (isV4)
            {
                v4.Add(((uint)start, (uint)end, match));
            }
            else
            {
                v6.Add((start, end, match));
            }
        }

        return new CompanyRanges(PrefixFlattener.Flatten(v4), PrefixFlattener.Flatten(v6));
    }

    /// <summary>
    /// Reads a ranges file: one <c>cidr,company[,domain[,site]]</c> per line, <c>#</c> comments and blank lines allowed.
    /// </summary>
    /// <exception cref="FormatException">A line is malformed; the message names the file and line.</exception>
    public static List<CompanyRangeOptions> ReadFile(string path)
    {
        var ranges = new List<CompanyRangeOptions>();
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var fields = line.Split(',', StringSplitOptions.TrimEntries);
            if (fields.Length is < 2 or > 4 || fields[1].Length == 0)
            {
                throw new FormatException($"{path} line {lineNumber}: expected 'cidr,company[,domain[,site]]'");
            }

            if (!TryParseCidr(fields[0], out _, out _, out _))
            {
                throw new FormatException($"{path} line {lineNumber}: '{fields[0]}' is not an IP address or CIDR block");
            }

            ranges.Add(new CompanyRangeOptions
            {
                Cidr = fields[0],
                Company = fields[1],
                Domain = fields.Length > 2 && fields[2].Length > 0 ? fields[2] : null,
                Site = fields.Length > 3 && fields[3].Length > 0 ? fields[3] : null,
            });
        }

        return ranges;
    }

    /// <summary>An address (a /32 or /128) or a CIDR block; host bits set below the prefix are ignored, as routers do.</summary>
    internal static bool TryParseCidr(string? text, out bool isV4, out UInt128 start, out UInt128 end)
    {
        isV4 = false;
        start = end = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? trimmed : trimmed[..slash];
        if (!IpKey.TryParse(addressText, out var key, out _))
        {
            return false;
        }

        // An IPv4-mapped IPv6 block (::ffff:10.0.0.0/104) is the IPv4 block it maps.
        var mapped = key.IsV4 && addressText.Contains(':', StringComparison.Ordinal);
        var bits = key.IsV4 ? 32 : 128;
        var prefix = bits;
        if (slash >= 0 && (!int.TryParse(trimmed.AsSpan(slash + 1), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out prefix) || prefix > (mapped ? 128 : bits) || (mapped && prefix < 96)))
        {
            return false;
        }

        if (mapped)
        {
            prefix -= 96;
        }

        isV4 = key.IsV4;
        var value = key.IsV4 ? key.V4 : key.V6;
        var hostBits = bits - prefix;
        var hostMask = hostBits == 0 ? UInt128.Zero : hostBits >= 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        start = value & ~hostMask;
        end = start | hostMask;
        return true;
    }
}

/// <summary>One of the user's IP ranges (Enrichment:CompanyRanges, or a line of Enrichment:CompanyRangesFile).</summary>
public sealed class CompanyRangeOptions
{
    /// <summary>An address or CIDR block: <c>203.0.113.0/24</c>, <c>2001:db8:42::/48</c>, <c>198.51.100.7</c>.</summary>
    public string Cidr { get; set; } = "";

    /// <summary>The company's name, shown for every visitor from the range.</summary>
    public string Company { get; set; } = "";

    /// <summary>The company's web domain (<c>acme.example</c>); optional.</summary>
    public string? Domain { get; set; }

    /// <summary>The site this range applies to; null for every site. A site's own ranges win over global ones.</summary>
    public string? Site { get; set; }
}
