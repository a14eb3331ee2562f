using System.Net;
using MaxMind.Db;
using MaxMind.GeoIP2;

namespace Insights.Enrichment.Company;

/// <summary>
/// The user's MaxMind databases as company sources: GeoIP2 Enterprise (organization with user_type and
/// connection_type: the strongest signal), GeoIP2 ISP (organization vs. ISP name), GeoLite2/GeoIP2 ASN.
/// </summary>
internal sealed class MaxMindCompanySource : IDisposable
{
    private readonly DatabaseReader reader;
    private readonly Func<DatabaseReader, IPAddress, CompanyMatch?> find;

    private MaxMindCompanySource(DatabaseReader reader, string source, string description, Func<DatabaseReader, IPAddress, CompanyMatch?> find)
    {
        this.reader = reader;
        this.find = find;
        Source = source;
        Description = description;
    }

    public string Source { get; }

    public string Description { get; }

    /// <summary>Opens a file and checks that it is the expected kind of database.</summary>
    /// <exception cref="InvalidDataException">Not a MaxMind database, or another type than <paramref name="source"/> needs.</exception>
    public static MaxMindCompanySource Open(string path, string source)
    {
        DatabaseReader reader;
        try
        {
            reader = new DatabaseReader(path, FileAccessMode.MemoryMapped);
        }
        catch (Exception error) when (error is InvalidDatabaseException or IOException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: not a MaxMind-format database ({error.Message})", error);
        }

        var type = reader.Metadata.DatabaseType;
        var (expected, find) = source switch
        {
            CompanySources.GeoIP2Enterprise => ("Enterprise", (Func<DatabaseReader, IPAddress, CompanyMatch?>)FromEnterprise),
            CompanySources.GeoIP2Isp => ("ISP", FromIsp),
            CompanySources.MaxMindAsn => ("ASN", FromAsn),
            _ => throw new ArgumentOutOfRangeException(nameof(source), source, "not a MaxMind company source"),
        };
        if (!type.Contains(expected, StringComparison.Ordinal))
        {
            reader.Dispose();
            throw new InvalidDataException($"{path}: database type '{type}' is not a GeoIP2 {expected} database");
        }

        return new MaxMindCompanySource(reader, source, $"{type} ({Path.GetFileName(path)})", find);
    }

    public CompanyMatch? Find(IPAddress address) => find(reader, address);

    public void Dispose() => reader.Dispose();

    /// <summary>
    /// user_type decides when present (business, government, military, college, school, library are organizations;
    /// residential, cellular, hosting, CDN, spider are not); a "Corporate" connection without one is a business; else
    /// the name is classified like an AS holder's.
    /// </summary>
    private static CompanyMatch? FromEnterprise(DatabaseReader reader, IPAddress address)
    {
        if (!reader.TryEnterprise(address, out var record) || record is null)
        {
            return null;
        }

        var traits = record.Traits;
        var name = traits.Organization ?? traits.AutonomousSystemOrganization ?? traits.Isp;
        var byUserType = NetworkClassifier.KindOfUserType(traits.UserType);
        if (name is null && byUserType is null)
        {
            return null;
        }

        string kind, reason;
        float confidence;
        if (byUserType is not null)
        {
            (kind, reason, confidence) = (byUserType, $"user_type: {traits.UserType}", 0.9f);
        }
        else if (traits.ConnectionType == "Corporate")
        {
            (kind, reason, confidence) = (NetworkKinds.Business, "connection_type: Corporate", 0.8f);
        }
        else if (traits.ConnectionType == "Cellular")
        {
            (kind, reason, confidence) = (NetworkKinds.Mobile, "connection_type: Cellular", 0.8f);
        }
        else
        {
            (kind, reason) = NetworkClassifier.Classify(traits.AutonomousSystemNumber, name);
            confidence = 0.7f;
        }

        if (kind == NetworkKinds.Business && name is null)
        {
            return null; // a business, but MaxMind does not say which: let a lower source name it
        }

        return new CompanyMatch(name ?? $"AS{traits.AutonomousSystemNumber}", OrganizationDomain(traits.Domain, traits.Isp, name),
            CompanySources.GeoIP2Enterprise, confidence, kind == NetworkKinds.Business, kind, traits.AutonomousSystemNumber)
        {
            KindReason = reason,
            DomainSource = traits.Domain is null ? null : CompanySources.GeoIP2Enterprise,
        };
    }

    /// <summary>
    /// The ISP database has no user_type: an organization that differs from the ISP is the ISP's customer (likely a
    /// business); names are classified so "Verizon Wireless" stays a carrier.
    /// </summary>
    private static CompanyMatch? FromIsp(DatabaseReader reader, IPAddress address)
    {
        if (!reader.TryIsp(address, out var record) || record is null)
        {
            return null;
        }

        var name = record.Organization ?? record.AutonomousSystemOrganization ?? record.Isp;
        if (name is null)
        {
            return null;
        }

        var (kind, reason) = NetworkClassifier.Classify(record.AutonomousSystemNumber, name);
        if (kind != NetworkKinds.Business && record.Organization is not null && record.Isp is not null
            && !SameName(record.Organization, record.Isp) && NetworkClassifier.Classify(null, record.Organization).Kind == NetworkKinds.Business)
        {
            // The AS number says ISP, but the organization is a named customer on the ISP's network.
            (kind, reason) = (NetworkKinds.Business, "organization differs from the ISP");
        }

        var customer = record.Isp is not null && !SameName(name, record.Isp);
        return new CompanyMatch(name, null, CompanySources.GeoIP2Isp, kind == NetworkKinds.Business ? (customer ? 0.7f : 0.6f) : 0.8f,
            kind == NetworkKinds.Business, kind, record.AutonomousSystemNumber)
        { KindReason = reason };
    }

    private static CompanyMatch? FromAsn(DatabaseReader reader, IPAddress address)
    {
        if (!reader.TryAsn(address, out var record) || record?.AutonomousSystemNumber is not { } asn)
        {
            return null;
        }

        var (kind, reason) = NetworkClassifier.Classify(asn, record.AutonomousSystemOrganization);
        return new CompanyMatch(record.AutonomousSystemOrganization ?? $"AS{asn}", null, CompanySources.MaxMindAsn,
            kind == NetworkKinds.Business ? 0.5f : 0.8f, kind == NetworkKinds.Business, kind, asn)
        { KindReason = reason };
    }

    private static bool SameName(string a, string b) =>
        string.Equals(NetworkClassifier.Normalize(a), NetworkClassifier.Normalize(b), StringComparison.Ordinal);

    /// <summary>
    /// MaxMind's domain is the second-level domain of the address's reverse DNS: often the ISP's (bredband2.com for a
    /// customer of Bredband2), sometimes the organization's own (health.mil). Kept only when it does not spell the ISP.
    /// </summary>
    internal static string? OrganizationDomain(string? domain, string? isp, string? organization)
    {
        if (string.IsNullOrEmpty(domain) || domain.EndsWith(".arpa", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var label = domain.Split('.')[0].ToLowerInvariant();
        var ispLetters = isp is null ? "" : new string([.. isp.ToLowerInvariant().Where(char.IsLetterOrDigit)]);
        var orgLetters = organization is null ? "" : new string([.. organization.ToLowerInvariant().Where(char.IsLetterOrDigit)]);
        if (label.Length >= 3 && ispLetters.Contains(label, StringComparison.Ordinal) && !orgLetters.Contains(label, StringComparison.Ordinal))
        {
            return null;
        }

        return domain.ToLowerInvariant();
    }
}
