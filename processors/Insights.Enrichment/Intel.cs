using Insights.Contracts;
using System.Net;
using Insights.Enrichment.Caching;
using Insights.Enrichment.Company;
using Insights.Enrichment.Net;

namespace Insights.Enrichment;

/// <summary>
/// Everything site-independent about one IP, resolved once and cached: the parsed address and its truncated form
/// (text included, so no event allocates one), geo, and the company by the global precedence.
/// </summary>
internal sealed class IpIntel : ICacheEntry
{
    /// <summary>Set once a reverse DNS lookup was queued for this address (0 = not yet): one lookup per cached IP.</summary>
    internal int ReverseDnsQueued;

    public IpIntel(string key, int hash, IpKey address, IPAddress? full, GeoLocation? geo, CompanyMatch? company)
    {
        Key = key;
        Hash = hash;
        Address = address;
        Full = full;
        Geo = geo;
        Company = company;
        if (full is not null)
        {
            FullText = full.ToString();
            Truncated = address.Truncated().ToAddress();
            TruncatedText = Truncated.ToString();
        }
    }

    public string Key { get; }

    public int Hash { get; }

    public bool IsValid => Full is not null;

    public IpKey Address { get; }

    public IPAddress? Full { get; }

    public string? FullText { get; }

    public IPAddress? Truncated { get; }

    public string? TruncatedText { get; }

    public GeoLocation? Geo { get; }

    public CompanyMatch? Company { get; }

    /// <summary>A copy with the company's domain filled in (reverse DNS found it later).</summary>
    public IpIntel WithCompany(CompanyMatch company) => new(Key, Hash, Address, Full, Geo, company) { ReverseDnsQueued = 1 };

    /// <summary>The shared answer for text that is not an address (nothing to look up, nothing to store).</summary>
    public static IpIntel Invalid { get; } = new("", 0, default, null, null, null);
}

/// <summary>Bot verdict and device for one user agent, cached by the agent's text.</summary>
internal sealed record UserAgentIntel(string Key, int Hash, string? BotReason, string? BotName, bool HttpLibraryOnly, DeviceInfo Device)
    : ICacheEntry;

/// <summary>A site's own settings: its privacy mode and its own IP ranges (which win over the global ones).</summary>
internal sealed class SiteRules(IpStorageMode ipStorage, CompanyRanges ranges)
{
    public IpStorageMode IpStorage { get; } = ipStorage;

    public CompanyRanges Ranges { get; } = ranges;
}
