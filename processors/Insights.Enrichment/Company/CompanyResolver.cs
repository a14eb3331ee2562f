using System.Net;
using Insights.Enrichment.Net;

namespace Insights.Enrichment.Company;

/// <summary>
/// The company behind an IP by the global precedence: the user's global ranges, then GeoIP2 Enterprise, GeoIP2 ISP,
/// a MaxMind ASN database, the ASN CSV. The first source that knows the address decides, including when it says
/// "consumer ISP": a precise source's "residential" must not be overridden by a vaguer source's AS holder name.
/// A site's own ranges are applied per event on top (<see cref="SiteRules"/>), so this result is cacheable per IP.
/// </summary>
internal sealed class CompanyResolver(
    CompanyRanges globalRanges,
    IReadOnlyList<MaxMindCompanySource> maxMindSources,
    AsnTable? asnCsv) : IDisposable
{
    public CompanyRanges GlobalRanges { get; } = globalRanges;

    public IReadOnlyList<MaxMindCompanySource> MaxMindSources { get; } = maxMindSources;

    public AsnTable? AsnCsv { get; } = asnCsv;

    public bool HasNetworkData => MaxMindSources.Count > 0 || AsnCsv is not null;

    public CompanyMatch? Resolve(in IpKey key, IPAddress address)
    {
        if (GlobalRanges.Find(key) is { } own)
        {
            return own;
        }

        foreach (var source in MaxMindSources)
        {
            if (source.Find(address) is { } match)
            {
                return match;
            }
        }

        return AsnCsv?.Find(key);
    }

    public void Dispose()
    {
        foreach (var source in MaxMindSources)
        {
            source.Dispose();
        }
    }
}
