using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Insights.Enrichment;

namespace Insights.Processors;

/// <summary>
/// The id a company is shown and asked for by: a readable slug of its name and 8 hex digits of a hash of the name
/// (<c>alberta-health-services-1a2b3c4d</c>). It depends on the name only, compared without case or extra spaces, so
/// the same company keeps its id whichever source named it and whenever a domain turns up; the hash keeps two
/// names with the same slug ("A&amp;B", "A-B") apart. The query API accepts exactly this shape.
/// </summary>
public static class CompanyIds
{
    private const int MaxSlugLength = 48;

    // Company matches are cached and shared by every event from the same network: the id is computed once per match.
    private static readonly ConditionalWeakTable<CompanyMatch, string> Ids = [];

    public static string Of(CompanyMatch company)
    {
        ArgumentNullException.ThrowIfNull(company);
        return Ids.GetValue(company, static c => Of(c.Name));
    }

    public static string Of(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var canonical = string.Join(' ', name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
        var slug = new StringBuilder(MaxSlugLength);
        foreach (var c in canonical)
        {
            if (slug.Length >= MaxSlugLength)
            {
                break;
            }

            if (char.IsAsciiLetterOrDigit(c))
            {
                slug.Append(c);
            }
            else if (slug.Length > 0 && slug[^1] != '-')
            {
                slug.Append('-');
            }
        }

        var readable = slug.ToString().TrimEnd('-');
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)).AsSpan(0, 4));
        return $"{(readable.Length == 0 ? "company" : readable)}-{hash}";
    }
}
