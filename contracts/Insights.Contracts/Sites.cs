using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;

namespace Insights.Contracts;

/// <summary>One tracked website and its keys. From configuration for now (section <c>Sites</c>).</summary>
public sealed class SiteOptions
{
    /// <summary>Stable id used in URLs, Kafka keys and ClickHouse rows.</summary>
    [Required]
    [RegularExpression("^[a-z0-9][a-z0-9_-]{0,62}$", ErrorMessage = "must be 1-63 lowercase letters, digits, '-' or '_'")]
    public string Id { get; set; } = "";

    public string Name { get; set; } = "";

    /// <summary>Keys that may send events (browser tracker, public).</summary>
    public List<string> WriteKeys { get; set; } = [];

    /// <summary>Keys that may send events on a visitor's behalf (context.ip / context.userAgent honoured). Secret.</summary>
    public List<string> ServerKeys { get; set; } = [];

    /// <summary>Keys that may read reports. Secret; a write key never reads.</summary>
    public List<string> ReadKeys { get; set; } = [];

    /// <summary>Events per second accepted for this site before ingest answers 429.</summary>
    [Range(1, 10_000_000)]
    public int RateLimitPerSecond { get; set; } = 200_000;

    /// <summary>IANA time zone for day boundaries in reports.</summary>
    public string TimeZone { get; set; } = "UTC";
}

/// <summary>What a key grants.</summary>
public enum KeyKind
{
    Write,
    Server,
    Read,
}

/// <summary>
/// Sites by key. Keys are looked up by their SHA-256, so a lookup's timing says nothing about how much of a
/// guessed key was right, and the catalog holds no key in memory it would have to compare byte by byte.
/// </summary>
public sealed class SiteCatalog
{
    private readonly Dictionary<string, (SiteOptions Site, KeyKind Kind)> byKeyHash = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SiteOptions> byId = new(StringComparer.Ordinal);

    public SiteCatalog(IEnumerable<SiteOptions> sites)
    {
        foreach (var site in sites)
        {
            if (!byId.TryAdd(site.Id, site))
            {
                throw new InvalidOperationException($"Sites: the site id '{site.Id}' is configured twice.");
            }

            Add(site, site.WriteKeys, KeyKind.Write);
            Add(site, site.ServerKeys, KeyKind.Server);
            Add(site, site.ReadKeys, KeyKind.Read);
        }
    }

    public IReadOnlyCollection<SiteOptions> All => byId.Values;

    public SiteOptions? FindById(string siteId) => byId.GetValueOrDefault(siteId);

    /// <summary>The site and the grant of a presented key, or null for an unknown key.</summary>
    public (SiteOptions Site, KeyKind Kind)? FindByKey(string? key) =>
        string.IsNullOrEmpty(key) ? null : byKeyHash.TryGetValue(Hash(key), out var found) ? found : null;

    private void Add(SiteOptions site, IEnumerable<string> keys, KeyKind kind)
    {
        foreach (var key in keys)
        {
            if (key.Length < 8)
            {
                throw new InvalidOperationException($"Sites: a {kind} key of site '{site.Id}' is shorter than 8 characters.");
            }

            if (!byKeyHash.TryAdd(Hash(key), (site, kind)))
            {
                throw new InvalidOperationException($"Sites: a key of site '{site.Id}' is used twice; every key must be unique.");
            }
        }
    }

    private static string Hash(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
