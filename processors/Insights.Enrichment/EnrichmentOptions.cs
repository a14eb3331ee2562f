using Insights.Contracts;
using System.ComponentModel.DataAnnotations;
using Insights.Enrichment.Company;
using Microsoft.Extensions.Options;

namespace Insights.Enrichment;

/// <summary>
/// Section <c>Enrichment</c>. Every data file has three states: unset (null) uses the file
/// <c>scripts/fetch-ipdata.sh</c> caches under <see cref="DataDirectory"/> when it is there, and turns the enrichment
/// off with a log line when it is not; <c>""</c> turns it off on purpose; a path must exist (checked at start-up).
/// </summary>
public sealed class EnrichmentOptions
{
    public const string SectionName = "Enrichment";

    /// <summary>Where the fetch script caches the open data; the default file locations live under it.</summary>
    public string DataDirectory { get; set; } = IpDataPackages.DefaultDirectory;

    /// <summary>crawler-user-agents JSON (an array of {pattern, tags}). Default: the fetched npm package.</summary>
    public string? CrawlerPatternsFile { get; set; }

    /// <summary>
    /// Also drop traffic from CDN networks as datacenter traffic. Off by default: Cloudflare WARP and Apple's iCloud
    /// Private Relay send real people through CDN networks, and dropping them loses a share of Safari visitors.
    /// </summary>
    public bool DropCdnTraffic { get; set; }

    /// <summary>A City database: GeoIP2/GeoLite2 City, GeoIP2 Enterprise, or a DB-IP city file. Default: DB-IP's IPv4 file.</summary>
    public string? CityDatabase { get; set; }

    /// <summary>
    /// The IPv6 file for a City database that covers IPv4 only (DB-IP ships one file per family). Ignored when
    /// <see cref="CityDatabase"/> covers IPv6 itself, as MaxMind's files do. Default: DB-IP's IPv6 file.
    /// </summary>
    public string? CityIpv6Database { get; set; }

    /// <summary>GeoIP2 Enterprise (organization, user_type, connection_type; also geo when no City database is set).</summary>
    public string? EnterpriseDatabase { get; set; }

    /// <summary>GeoIP2 ISP (organization, ISP, AS).</summary>
    public string? IspDatabase { get; set; }

    /// <summary>GeoLite2 ASN or GeoIP2 ASN. Used before the ASN CSV when both are there.</summary>
    public string? AsnDatabase { get; set; }

    /// <summary>@ip-location-db/asn IPv4 CSV (<c>start,end,asn,org</c>; text or numeric addresses). Default: the fetched file.</summary>
    public string? AsnCsvIpv4 { get; set; }

    /// <summary>@ip-location-db/asn IPv6 CSV. Default: the fetched file.</summary>
    public string? AsnCsvIpv6 { get; set; }

    /// <summary>A file of the user's own ranges: one <c>cidr,company[,domain[,site]]</c> per line, # comments.</summary>
    public string? CompanyRangesFile { get; set; }

    /// <summary>The user's own ranges inline. These and the file's always win over every other company source.</summary>
    public List<CompanyRangeOptions> CompanyRanges { get; set; } = [];

    public ReverseDnsOptions ReverseDns { get; set; } = new();

    /// <summary>
    /// Distinct IPs whose geo and company are kept (4-way set-associative, ~300 bytes each). Trades memory for
    /// database lookups: a miss costs 5–20 µs, a hit well under 0.1 µs.
    /// </summary>
    [Range(1_024, 16_777_216)]
    public int IpCacheSize { get; set; } = 131_072;

    /// <summary>Distinct user agents whose bot verdict and device are kept. Agents are few; a miss costs ~2–10 µs.</summary>
    [Range(256, 4_194_304)]
    public int UserAgentCacheSize { get; set; } = 16_384;

    /// <summary>What is stored of a visitor's IP, after every lookup: Full, Truncated (IPv4 /24, IPv6 /48) or None.</summary>
    public IpStorageMode IpStorage { get; set; } = IpStorageMode.Truncated;

    /// <summary>
    /// Per-site overrides of <see cref="IpStorage"/>: site id → mode. A site's own privacy mode in the control plane
    /// (<see cref="SiteOptions.IpStorage"/>) wins over both.
    /// </summary>
    public Dictionary<string, IpStorageMode> SiteIpStorage { get; set; } = new(StringComparer.Ordinal);
}


/// <summary>
/// Reverse DNS for a business's domain when no other source names it. Off by default: it asks the network, and a
/// PTR record often names the ISP rather than the company. Lookups never block a batch: a miss is queued, resolved
/// in the background with a time limit, and the domain appears on the IP's later events.
/// </summary>
public sealed class ReverseDnsOptions
{
    /// <summary>Turns the look-ups on.</summary>
    public bool Enabled { get; set; }

    /// <summary>Time limit per lookup; a slower answer counts as none.</summary>
    [Range(50, 30_000)]
    public int TimeoutMilliseconds { get; set; } = 1_000;

    /// <summary>Lookups in flight at once: bounds the threads a slow resolver can hold.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 4;

    /// <summary>Lookups waiting; when full, new ones are skipped (counted) rather than slowing the batch.</summary>
    [Range(1, 1_000_000)]
    public int QueueSize { get; set; } = 4_096;
}

/// <summary>Rules DataAnnotations cannot state: explicit files exist, ranges parse, site modes name sites.</summary>
internal sealed class EnrichmentOptionsValidator : IValidateOptions<EnrichmentOptions>
{
    public ValidateOptionsResult Validate(string? name, EnrichmentOptions options)
    {
        var failures = new List<string>();
        void File(string key, string? path)
        {
            if (!string.IsNullOrEmpty(path) && !System.IO.File.Exists(EnrichmentPaths.Expand(path)))
            {
                failures.Add($"{EnrichmentOptions.SectionName}:{key}: the file '{path}' does not exist (unset it to use the default, or set \"\" to turn this off)");
            }
        }

        File(nameof(options.CrawlerPatternsFile), options.CrawlerPatternsFile);
        File(nameof(options.CityDatabase), options.CityDatabase);
        File(nameof(options.CityIpv6Database), options.CityIpv6Database);
        File(nameof(options.EnterpriseDatabase), options.EnterpriseDatabase);
        File(nameof(options.IspDatabase), options.IspDatabase);
        File(nameof(options.AsnDatabase), options.AsnDatabase);
        File(nameof(options.AsnCsvIpv4), options.AsnCsvIpv4);
        File(nameof(options.AsnCsvIpv6), options.AsnCsvIpv6);
        File(nameof(options.CompanyRangesFile), options.CompanyRangesFile);

        for (var i = 0; i < options.CompanyRanges.Count; i++)
        {
            var range = options.CompanyRanges[i];
            var key = $"{EnrichmentOptions.SectionName}:{nameof(options.CompanyRanges)}:{i}";
            if (!CompanyRanges.TryParseCidr(range.Cidr, out _, out _, out _))
            {
                failures.Add($"{key}:Cidr: '{range.Cidr}' is not an IP address or CIDR block");
            }

            if (string.IsNullOrWhiteSpace(range.Company))
            {
                failures.Add($"{key}:Company: a range needs the company's name");
            }
        }

        if (!string.IsNullOrEmpty(options.CompanyRangesFile) && System.IO.File.Exists(EnrichmentPaths.Expand(options.CompanyRangesFile)))
        {
            try
            {
                Company.CompanyRanges.ReadFile(EnrichmentPaths.Expand(options.CompanyRangesFile));
            }
            catch (FormatException error)
            {
                failures.Add($"{EnrichmentOptions.SectionName}:{nameof(options.CompanyRangesFile)}: {error.Message}");
            }
        }

        // DataAnnotations on a nested object are not run by the section validator: the same ranges, stated here.
        void Between(string key, int value, int min, int max)
        {
            if (value < min || value > max)
            {
                failures.Add($"{EnrichmentOptions.SectionName}:{nameof(options.ReverseDns)}:{key} must be between {min} and {max}, got {value}");
            }
        }

        Between(nameof(ReverseDnsOptions.TimeoutMilliseconds), options.ReverseDns.TimeoutMilliseconds, 50, 30_000);
        Between(nameof(ReverseDnsOptions.Concurrency), options.ReverseDns.Concurrency, 1, 64);
        Between(nameof(ReverseDnsOptions.QueueSize), options.ReverseDns.QueueSize, 1, 1_000_000);

        if (!Enum.IsDefined(options.IpStorage))
        {
            failures.Add($"{EnrichmentOptions.SectionName}:{nameof(options.IpStorage)}: must be Full, Truncated or None");
        }

        foreach (var (site, mode) in options.SiteIpStorage)
        {
            if (!Enum.IsDefined(mode))
            {
                failures.Add($"{EnrichmentOptions.SectionName}:{nameof(options.SiteIpStorage)}:{site}: must be Full, Truncated or None");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Turns the three states of a data-file setting into a path, or null when the enrichment is off.</summary>
internal static class EnrichmentPaths
{
    /// <summary>The file to read, whether it was set explicitly, and (for a missing default) where it was looked for.</summary>
    public static (string? Path, bool Explicit) Resolve(string? configured, string defaultPath)
    {
        if (configured is null)
        {
            return (File.Exists(defaultPath) ? defaultPath : null, false);
        }

        return configured.Length == 0 ? (null, true) : (Expand(configured), true);
    }

    public static string Expand(string path) =>
        path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..])
            : path;
}
