using Insights.Contracts;
using Insights.QueryApi.Companies;

namespace Insights.QueryApi.Live;

/// <summary>
/// The live snapshot's filters, parsed once for the site view and the partner view: companies only, min score, page,
/// country. Each error names its parameter and never echoes the input.
/// </summary>
public sealed record LiveFilter(bool Companies, int MinScore, string? Page, string? Country)
{
    private const int MaxPageFilter = 2_000;

    /// <summary>Parses the raw parameters; <paramref name="companiesByDefault"/> is what an absent 'companies' means.</summary>
    public static LiveFilter Parse(string? companies, string? minScore, string? page, string? country, bool companiesByDefault,
        Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var onlyCompanies = companies switch
        {
            null or "" => companiesByDefault,
            "false" => false,
            "true" => true,
            _ => Invalid(errors, "companies", "'companies' must be true or false.", companiesByDefault),
        };
        var score = CompanyParameters.Integer("min_score", minScore, 0, 100, 0, errors);
        if (page is not null && (page.Length > MaxPageFilter || !page.StartsWith('/') || page.Any(char.IsControl)))
        {
            errors["page"] = [$"'page' must be a path starting with '/', at most {MaxPageFilter} characters."];
        }

        if (country is not null && (country.Length != 2 || !country.All(char.IsAsciiLetter)))
        {
            errors["country"] = ["'country' must be an ISO 3166-1 alpha-2 code such as DE."];
        }

        return new LiveFilter(onlyCompanies, score, page, country);
    }

    public bool Matches(LiveVisitor visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        return Matches(visitor.Company, visitor.Score, visitor.Page, visitor.Location);
    }

    /// <summary>The same test on presence's own record, so a snapshot filters without making a view of every visitor.</summary>
    public bool Matches(PresentVisitor visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        return Matches(visitor.Company, visitor.Score, visitor.Page, visitor.Geo);
    }

    /// <summary>
    /// The snapshot's 'limit': how many of the most recently seen matching visitors to list (default
    /// <see cref="DefaultLimit"/>, at most <see cref="MaxLimit"/>). A list longer than a person can scan costs every
    /// reader the serialization of the whole site; the counts still cover everyone, and the stream carries every change.
    /// </summary>
    public static int Limit(string? limit, Dictionary<string, string[]> errors) =>
        CompanyParameters.Integer("limit", limit, 1, MaxLimit, DefaultLimit, errors);

    public const int DefaultLimit = 200;

    public const int MaxLimit = 1_000;

    private bool Matches(LiveCompany? company, int score, LivePage? page, LiveGeo? location) =>
        (!Companies || company is not null) && score >= MinScore
        && (Page is null || string.Equals(page?.Path, Page, StringComparison.Ordinal))
        && (Country is null || string.Equals(location?.Country, Country, StringComparison.OrdinalIgnoreCase));

    private static bool Invalid(Dictionary<string, string[]> errors, string name, string message, bool fallback)
    {
        errors[name] = [message];
        return fallback;
    }
}
