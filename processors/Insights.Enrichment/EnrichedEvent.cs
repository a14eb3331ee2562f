using Insights.Contracts;
using System.Net;

namespace Insights.Enrichment;

/// <summary>
/// What the pipeline learned about one event. A struct written into the caller's span: a batch costs no allocation
/// beyond the cached objects it points at (geo, device, company are shared by every event from the same IP or UA).
/// </summary>
/// <remarks>
/// Store <see cref="Ip"/>, never the input event's own IP: only this one has the site's privacy mode applied.
/// </remarks>
public struct EnrichedEvent
{
    /// <summary>Why the event is not a visitor's (a <see cref="DropReasons"/> value), or null for a visitor.</summary>
    public string? DropReason { get; internal set; }

    /// <summary>What identified the bot: the crawler pattern, the headless marker or the network's organization.</summary>
    public string? BotName { get; internal set; }

    public GeoLocation? Geo { get; internal set; }

    public DeviceInfo Device { get; internal set; }

    /// <summary>
    /// Who is behind the IP. Shown as a company only when <see cref="CompanyMatch.IsBusiness"/>: consumer ISPs,
    /// mobile carriers, hosters, CDNs and anonymizers resolve too, but as what they are, never as a company.
    /// </summary>
    public CompanyMatch? Company { get; internal set; }

    /// <summary>The IP after the site's privacy mode: full, truncated (IPv4 /24, IPv6 /48) or null.</summary>
    public IPAddress? Ip { get; internal set; }

    /// <summary><see cref="Ip"/> as text, or null.</summary>
    public string? IpText { get; internal set; }

    public readonly bool IsDropped => DropReason is not null;

    /// <summary>The site's privacy mode that produced <see cref="Ip"/>: whatever else leaves the pipeline follows it too.</summary>
    public readonly IpStorageMode IpStorage => Site?.IpStorage ?? IpStorageMode.None;

    /// <summary>The company to show for the visit: the match when it is a business, else null.</summary>
    public readonly CompanyMatch? Business => Company is { IsBusiness: true } company ? company : null;

    // Scratch shared between the steps of one batch: the per-IP and per-UA cache entries, looked up once.
    internal IpIntel? IpIntel;
    internal UserAgentIntel? UserAgentIntel;
    internal SiteRules? Site;
}

/// <summary>Drop reasons: metric tags and the value of <see cref="EnrichedEvent.DropReason"/>.</summary>
public static class DropReasons
{
    /// <summary>The user agent matches the crawler list (crawler-user-agents).</summary>
    public const string Crawler = "crawler";

    /// <summary>A headless or automated browser (HeadlessChrome, PhantomJS, Selenium …).</summary>
    public const string HeadlessBrowser = "headless_browser";

    /// <summary>The IP belongs to a hosting provider or cloud (not a person's connection).</summary>
    public const string Datacenter = "datacenter";

    /// <summary>The IP is a search engine's crawler network (MaxMind user_type search_engine_spider).</summary>
    public const string SearchEngineSpider = "search_engine_spider";
}

/// <summary>Where a visitor is, as precise as the City database says.</summary>
public sealed record GeoLocation(string CountryCode, string? Region, string? City, double? Latitude, double? Longitude);

/// <summary>Device classes, stored as their lowercase names.</summary>
public static class DeviceTypes
{
    public const string Desktop = "desktop";
    public const string Mobile = "mobile";
    public const string Tablet = "tablet";
    public const string Bot = "bot";
    public const string Other = "other";
}

/// <summary>Browser, OS and device class from the user agent. Unknown parts are "Other" / null.</summary>
public sealed record DeviceInfo(string Browser, int? BrowserMajor, string Os, string? OsVersion, string Type)
{
    public static DeviceInfo Unknown { get; } = new("Other", null, "Other", null, DeviceTypes.Other);
}

/// <summary>What kind of network an address belongs to; only <see cref="Business"/> is shown as a company.</summary>
public static class NetworkKinds
{
    /// <summary>An organization: business, government, military, education, health, library.</summary>
    public const string Business = "business";

    public const string ConsumerIsp = "consumer_isp";
    public const string Mobile = "mobile";
    public const string Hosting = "hosting";
    public const string Cdn = "cdn";

    /// <summary>VPNs, proxies, privacy relays, secure web gateways: a person, but the company is hidden.</summary>
    public const string Anonymizer = "anonymizer";

    public const string SearchEngineSpider = "search_engine_spider";

    /// <summary>The data names the network but not what it is (an AS without a name, say).</summary>
    public const string Unknown = "unknown";
}

/// <summary>Which source resolved the company, in precedence order.</summary>
public static class CompanySources
{
    /// <summary>The user's own IP ranges (Enrichment:CompanyRanges). Always wins.</summary>
    public const string UserRanges = "user_ranges";

    public const string GeoIP2Enterprise = "geoip2_enterprise";
    public const string GeoIP2Isp = "geoip2_isp";

    /// <summary>A GeoLite2-ASN (or GeoIP2-ASN) database.</summary>
    public const string MaxMindAsn = "maxmind_asn";

    /// <summary>The @ip-location-db/asn CSV (RouteViews, NRO and DB-IP data).</summary>
    public const string AsnCsv = "asn_csv";
}

/// <summary>
/// The organization behind an IP. <paramref name="Confidence"/> is 0–1: 1 for the user's own ranges, ~0.9 for
/// MaxMind Enterprise business user types, down to 0.5 for an AS holder's name.
/// </summary>
public sealed record CompanyMatch(
    string Name,
    string? Domain,
    string Source,
    float Confidence,
    bool IsBusiness,
    string Kind,
    long? Asn)
{
    /// <summary>Why this kind: the rule that classified it (a user_type, a curated name, an AS number).</summary>
    public string? KindReason { get; init; }

    /// <summary>Where <see cref="Domain"/> came from when it is known: the source itself or reverse DNS.</summary>
    public string? DomainSource { get; init; }
}
