using System.Diagnostics;
using Insights.Contracts;
using Insights.Enrichment.Bots;
using Insights.Enrichment.Company;
using Insights.Enrichment.Geo;
using Microsoft.Extensions.Logging;

namespace Insights.Enrichment;

/// <summary>Which enrichments run, from what data, and how to turn on the ones that do not.</summary>
public sealed class EnrichmentStatus
{
    private readonly List<EnrichmentState> states = [];

    public IReadOnlyList<EnrichmentState> Enrichments => states;

    public bool IsOn(string name) => states.Exists(s => s.Name == name && s.On);

    internal void Add(string name, bool on, string detail) => states.Add(new EnrichmentState(name, on, detail));
}

/// <param name="Name">bots, geo, device, company, reverse_dns.</param>
/// <param name="On">Whether it runs.</param>
/// <param name="Detail">From what data when on; why not and how to turn it on when off.</param>
public sealed record EnrichmentState(string Name, bool On, string Detail);

/// <summary>
/// The data behind the steps, loaded once from <see cref="EnrichmentOptions"/>. A missing default file turns its
/// enrichment off; an unreadable or malformed file is logged as an error and turns it off too: the processors keep
/// running without that enrichment rather than crash-looping on a bad download.
/// </summary>
internal sealed class EnrichmentSources : IDisposable
{
    private sealed record BuiltSites(Dictionary<string, SiteRules> Rules, long Version);

    private const string Fetch = "run " + IpDataPackages.FetchScript;

    private readonly EnrichmentOptions options;
    private readonly Dictionary<string, CompanyRanges> siteRanges;
    private readonly SiteCatalog? catalog;
    private volatile BuiltSites sites;

    private EnrichmentSources(
        UserAgentClassifier userAgents, GeoLocator? geo, CompanyResolver company, EnrichmentOptions options,
        Dictionary<string, CompanyRanges> siteRanges, SiteCatalog? catalog, SiteRules defaultSite, EnrichmentStatus status)
    {
        this.options = options;
        this.siteRanges = siteRanges;
        this.catalog = catalog;
        UserAgents = userAgents;
        Geo = geo;
        Company = company;
        DefaultSite = defaultSite;
        Status = status;
        sites = Build();
    }

    public UserAgentClassifier UserAgents { get; }

    public GeoLocator? Geo { get; }

    public CompanyResolver Company { get; }

    public SiteRules DefaultSite { get; }

    public EnrichmentStatus Status { get; }

    /// <summary>
    /// A site's rules: its privacy mode from the control plane (<see cref="SiteOptions.IpStorage"/>), else
    /// <c>Enrichment:SiteIpStorage</c>, else <c>Enrichment:IpStorage</c>; its own IP ranges. Rebuilt when the catalog
    /// changes, so a site that tightens its privacy mode is enriched under it from the next batch.
    /// </summary>
    public SiteRules SiteRulesFor(string? siteId)
    {
        var built = sites;
        if (catalog is not null && catalog.Version != built.Version)
        {
            sites = built = Build();
        }

        return siteId is not null && built.Rules.TryGetValue(siteId, out var rules) ? rules : DefaultSite;
    }

    private BuiltSites Build()
    {
        var version = catalog?.Version ?? 0;
        var own = catalog?.All.Where(s => s.IpStorage is not null).ToDictionary(s => s.Id, s => s.IpStorage!.Value, StringComparer.Ordinal)
            ?? new Dictionary<string, IpStorageMode>(StringComparer.Ordinal);
        var rules = new Dictionary<string, SiteRules>(StringComparer.Ordinal);
        foreach (var siteId in own.Keys.Concat(options.SiteIpStorage.Keys).Concat(siteRanges.Keys).Distinct(StringComparer.Ordinal))
        {
            var mode = own.TryGetValue(siteId, out var fromSite) ? fromSite
                : options.SiteIpStorage.TryGetValue(siteId, out var fromOptions) ? fromOptions
                : options.IpStorage;
            rules[siteId] = new SiteRules(mode, siteRanges.GetValueOrDefault(siteId) ?? CompanyRanges.Empty);
        }

        return new BuiltSites(rules, version);
    }

    public static EnrichmentSources Load(EnrichmentOptions options, ILogger logger, SiteCatalog? catalog = null)
    {
        var clock = Stopwatch.StartNew();
        var status = new EnrichmentStatus();
        var directory = EnrichmentPaths.Expand(options.DataDirectory);
        var crawlers = LoadCrawlers(options, directory, logger, status);
        var geo = LoadGeo(options, directory, logger, status);
        status.Add("device", true, "built-in user-agent parser");
        var (company, siteRanges) = LoadCompany(options, directory, logger, status);
        status.Add("reverse_dns", options.ReverseDns.Enabled, options.ReverseDns.Enabled
            ? $"background, {options.ReverseDns.TimeoutMilliseconds} ms limit, {options.ReverseDns.Concurrency} at once"
            : "set Enrichment:ReverseDns:Enabled=true to look up domains of businesses no source names");

        // Per site: the site's own ranges (which win over the global ones), built once; privacy modes follow the catalog.
        var ranges = siteRanges.ToDictionary(r => r.Key, r => CompanyRanges.Build(r.Value), StringComparer.Ordinal);
        var sources = new EnrichmentSources(new UserAgentClassifier(crawlers), geo, company, options, ranges, catalog,
            new SiteRules(options.IpStorage, CompanyRanges.Empty), status);
        LogStatus(logger, status);
        LogMessages.Loaded(logger, clock.ElapsedMilliseconds);
        return sources;
    }

    /// <summary>The crawler list; headless markers and datacenter networks need no data.</summary>
    private static CrawlerMatcher? LoadCrawlers(EnrichmentOptions options, string directory, ILogger logger, EnrichmentStatus status)
    {
        var (path, isExplicit) = EnrichmentPaths.Resolve(options.CrawlerPatternsFile, IpDataPackages.CrawlerPatternsFile(directory));
        var crawlers = Try(logger, "Enrichment:CrawlerPatternsFile", path, CrawlerMatcher.Load);
        status.Add("bots", crawlers is not null, crawlers is not null
            ? $"{crawlers.Count} crawler patterns ({Describe(path!)}), headless markers, datacenter networks"
            : $"only headless markers and datacenter networks; for the crawler list {(isExplicit && path is null ? "unset" : Fetch + " or set")} Enrichment:CrawlerPatternsFile");
        return crawlers;
    }

    /// <summary>An explicit City database, else Enterprise (it carries City data), else DB-IP's files.</summary>
    private static GeoLocator? LoadGeo(EnrichmentOptions options, string directory, ILogger logger, EnrichmentStatus status)
    {
        var (path, isExplicit) = EnrichmentPaths.Resolve(options.CityDatabase, IpDataPackages.CityIpv4(directory));
        var (v6Path, _) = EnrichmentPaths.Resolve(options.CityIpv6Database, IpDataPackages.CityIpv6(directory));
        var setting = "Enrichment:CityDatabase";
        if (!isExplicit && options.EnterpriseDatabase is { Length: > 0 } enterprise)
        {
            (path, v6Path, setting) = (EnrichmentPaths.Expand(enterprise), null, "Enrichment:EnterpriseDatabase (as the City database)");
        }

        var geo = path is null && v6Path is null ? null : Try(logger, setting, path ?? v6Path, _ => GeoLocator.Open(path, v6Path));
        status.Add("geo", geo is not null, geo is not null
            ? $"{geo.Description}{(geo.CoversV6 ? "" : "; IPv6 addresses get no geo (set Enrichment:CityIpv6Database)")}"
            : $"no City database: {Fetch}, or set Enrichment:CityDatabase to a GeoIP2/GeoLite2 City file");
        return geo;
    }

    /// <summary>The user's ranges (global ones here, per-site ones returned), MaxMind Enterprise / ISP / ASN, the ASN CSV.</summary>
    private static (CompanyResolver Company, Dictionary<string, List<CompanyRangeOptions>> SiteRanges) LoadCompany(
        EnrichmentOptions options, string directory, ILogger logger, EnrichmentStatus status)
    {
        var allRanges = new List<CompanyRangeOptions>(options.CompanyRanges);
        if (!string.IsNullOrEmpty(options.CompanyRangesFile))
        {
            allRanges.AddRange(Try(logger, "Enrichment:CompanyRangesFile", EnrichmentPaths.Expand(options.CompanyRangesFile), CompanyRanges.ReadFile) ?? []);
        }

        var globalRanges = new List<CompanyRangeOptions>();
        var siteRanges = new Dictionary<string, List<CompanyRangeOptions>>(StringComparer.Ordinal);
        foreach (var range in allRanges)
        {
            (range.Site is null ? globalRanges : ListFor(siteRanges, range.Site)).Add(range);
        }

        var maxMind = new List<MaxMindCompanySource>();
        foreach (var (setting, configured, source) in new[]
        {
            ("Enrichment:EnterpriseDatabase", options.EnterpriseDatabase, CompanySources.GeoIP2Enterprise),
            ("Enrichment:IspDatabase", options.IspDatabase, CompanySources.GeoIP2Isp),
            ("Enrichment:AsnDatabase", options.AsnDatabase, CompanySources.MaxMindAsn),
        })
        {
            if (configured is { Length: > 0 } && Try(logger, setting, EnrichmentPaths.Expand(configured), path => MaxMindCompanySource.Open(path, source)) is { } opened)
            {
                maxMind.Add(opened);
            }
        }

        var (asn4, _) = EnrichmentPaths.Resolve(options.AsnCsvIpv4, IpDataPackages.AsnCsvIpv4(directory));
        var (asn6, _) = EnrichmentPaths.Resolve(options.AsnCsvIpv6, IpDataPackages.AsnCsvIpv6(directory));
        var asnTable = asn4 is null && asn6 is null ? null : Try(logger, "Enrichment:AsnCsvIpv4", asn4 ?? asn6, _ => AsnTable.Load(asn4, asn6));
        if (asnTable is { Report.MalformedRows: > 0 } && asnTable.Report is var report)
        {
            LogMessages.AsnRowsSkipped(logger, report.MalformedRows, report.Overlapping, string.Join("; ", report.MalformedExamples));
        }

        var company = new CompanyResolver(CompanyRanges.Build(globalRanges), maxMind, asnTable);
        var described = new List<string>();
        if (allRanges.Count > 0)
        {
            described.Add($"{allRanges.Count} own IP ranges");
        }

        described.AddRange(maxMind.Select(m => m.Description));
        if (asnTable is not null)
        {
            described.Add($"ASN CSV ({asnTable.Report.Ranges:N0} ranges, {asnTable.Report.SystemCount:N0} networks)");
        }

        status.Add("company", company.HasNetworkData || allRanges.Count > 0, company.HasNetworkData
            ? string.Join(", ", described) + (maxMind.Count == 0 ? "; for MaxMind's organization and user_type set Enrichment:EnterpriseDatabase or Enrichment:IspDatabase" : "")
            : allRanges.Count > 0
                ? $"only own IP ranges ({allRanges.Count}); for every other IP {Fetch}, or set Enrichment:EnterpriseDatabase, Enrichment:IspDatabase or Enrichment:AsnDatabase"
                : $"no IP-to-organization data: {Fetch}, or set Enrichment:EnterpriseDatabase, Enrichment:IspDatabase, Enrichment:AsnDatabase or Enrichment:CompanyRanges");
        return (company, siteRanges);
    }

    public void Dispose()
    {
        Geo?.Dispose();
        Company.Dispose();
    }

    private static List<CompanyRangeOptions> ListFor(Dictionary<string, List<CompanyRangeOptions>> bySite, string site)
    {
        if (!bySite.TryGetValue(site, out var list))
        {
            bySite[site] = list = [];
        }

        return list;
    }

    private static void LogStatus(ILogger logger, EnrichmentStatus status)
    {
        var on = status.Enrichments.Where(s => s.On).Select(s => $"{s.Name} ({s.Detail})");
        LogMessages.EnrichmentsOn(logger, string.Join("; ", on));
        var off = status.Enrichments.Where(s => !s.On).ToList();
        var line = string.Join("; ", off.Select(s => $"{s.Name} ({s.Detail})"));
        if (off.Exists(s => s.Name != "reverse_dns"))
        {
            LogMessages.EnrichmentsOff(logger, line);
        }
        else if (off.Count > 0)
        {
            LogMessages.OptionalEnrichmentsOff(logger, line);
        }
    }

    private static string Describe(string path) => Path.GetFileName(Path.GetDirectoryName(path)) is { Length: > 0 } package ? package : path;

    private static T? Try<T>(ILogger logger, string setting, string? path, Func<string, T> load)
        where T : class
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            return load(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or InvalidDataException or FormatException
            or MaxMind.Db.InvalidDatabaseException or InvalidOperationException)
        {
            LogMessages.DataUnreadable(logger, setting, $"{path}: {error.Message}", error);
            return null;
        }
    }
}
