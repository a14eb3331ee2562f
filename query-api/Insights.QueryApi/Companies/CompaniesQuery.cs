using System.Globalization;
using System.Text.RegularExpressions;
using Insights.Contracts;
using Insights.QueryApi.Pipeline;
using Insights.QueryApi.Stats;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Companies;

/// <summary>Identified companies of a site with their visits and lead score; parameters raw until the key is checked.</summary>
public sealed record CompaniesQuery(
    string Site, PresentedKey Key, string? From, string? To, string? Sort, string? Order, string? MinScore, string? Search, string? Limit, string? Offset)
    : IQuery<QueryOutcome<CompaniesResponse>>, ISiteQuery<CompaniesQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    /// <summary>Only visits from this country (ISO 3166-1 alpha-2) count.</summary>
    public string? Country { get; init; }

    /// <summary><c>true</c>: only companies with a visitor who identified themselves.</summary>
    public string? Identified { get; init; }

    /// <summary><c>true</c>: only the site's target accounts.</summary>
    public string? Target { get; init; }

    public CompaniesQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

/// <summary>One company's visit timeline.</summary>
public sealed record CompanyQuery(string Site, PresentedKey Key, string Id, string? From, string? To, string? Limit, string? Offset)
    : IQuery<QueryOutcome<CompanyResponse>>, ISiteQuery<CompanyQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public CompanyQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

/// <summary>The company list's sort keys (the values of <c>sort</c>).</summary>
public enum CompanySort
{
    Score,
    Visits,
    Visitors,
    PageViews,
    LastSeen,
    FirstSeen,
    Name,
}

/// <summary>Validated parameters of a company report.</summary>
public sealed record CompanyFilter(StatsRange Range, CompanySort Sort, bool Descending, int MinScore, string Search, int Offset)
{
    public string Country { get; init; } = "";

    public bool IdentifiedOnly { get; init; }

    public bool TargetAccountsOnly { get; init; }

    public int Limit => Range.Limit;
}

public sealed class CompaniesQueryHandler(CompaniesStore store, IOptions<QueryApiOptions> options, IOptions<LeadScoreOptions> leads, TimeProvider time)
    : IQueryHandler<CompaniesQuery, QueryOutcome<CompaniesResponse>>
{
    public async ValueTask<QueryOutcome<CompaniesResponse>> Handle(CompaniesQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite
            ?? throw new InvalidOperationException("CompaniesQuery reached its handler unauthorized; TenantAuthorizationBehavior must run first.");

        var errors = CompanyParameters.Range(query.From, query.To, query.Limit, site, options.Value, leads.Value, time, out var range);
        var sort = CompanyParameters.Sort(query.Sort, errors);
        var descending = CompanyParameters.Descending(query.Order, sort, errors);
        var minScore = CompanyParameters.Integer("min_score", query.MinScore, 0, 100, 0, errors);
        var search = CompanyParameters.Search(query.Search, errors);
        var offset = CompanyParameters.Integer("offset", query.Offset, 0, CompanyParameters.MaxOffset, 0, errors);
        var country = StatsFilter.Parse(null, query.Country, null, null, null, null, errors).Country;
        var identified = CompanyParameters.Flag("identified", query.Identified, errors);
        var target = CompanyParameters.Flag("target", query.Target, errors);
        if (errors.Count > 0)
        {
            return QueryProblem.Invalid(errors);
        }

        var filter = new CompanyFilter(range!, sort, descending, minScore, search, offset)
        {
            Country = country,
            IdentifiedOnly = identified,
            TargetAccountsOnly = target,
        };
        return await store.ListAsync(site, filter, cancellationToken);
    }

}

public sealed class CompanyQueryHandler(CompaniesStore store, IOptions<QueryApiOptions> options, IOptions<LeadScoreOptions> leads, TimeProvider time)
    : IQueryHandler<CompanyQuery, QueryOutcome<CompanyResponse>>
{
    public async ValueTask<QueryOutcome<CompanyResponse>> Handle(CompanyQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite
            ?? throw new InvalidOperationException("CompanyQuery reached its handler unauthorized; TenantAuthorizationBehavior must run first.");

        var errors = CompanyParameters.Range(query.From, query.To, query.Limit, site, options.Value, leads.Value, time, out var range);
        var offset = CompanyParameters.Integer("offset", query.Offset, 0, CompanyParameters.MaxOffset, 0, errors);
        if (!CompanyParameters.IsCompanyId(query.Id))
        {
            errors["id"] = ["'id' must be a company id as the company list returns it (lower-case letters, digits and dashes)."];
        }

        if (errors.Count > 0)
        {
            return QueryProblem.Invalid(errors);
        }

        var filter = new CompanyFilter(range!, CompanySort.LastSeen, true, 0, "", offset);
        return await store.GetAsync(site, query.Id, filter, cancellationToken) is { } company
            ? company
            : new QueryProblem(StatusCodes.Status404NotFound, "company_not_found", "Company not found",
                "No visit of this site ever came from a company with this id.");
    }
}

/// <summary>Parsing of the company reports' parameters: each error names its parameter and never echoes the input.</summary>
internal static partial class CompanyParameters
{
    /// <summary>Deep pages cost a sort of everything before them; past this, narrow the filters instead.</summary>
    public const int MaxOffset = 10_000;

    private const int MaxSearchLength = 100;

    private static readonly Dictionary<string, CompanySort> Sorts = new(StringComparer.OrdinalIgnoreCase)
    {
        ["score"] = CompanySort.Score,
        ["visits"] = CompanySort.Visits,
        ["visitors"] = CompanySort.Visitors,
        ["page_views"] = CompanySort.PageViews,
        ["last_seen"] = CompanySort.LastSeen,
        ["first_seen"] = CompanySort.FirstSeen,
        ["name"] = CompanySort.Name,
    };

    public static string NameOf(CompanySort sort) => Sorts.First(s => s.Value == sort).Key;

    /// <summary>The range and limit, as the stats report reads them, with the company reports' own default span.</summary>
    public static Dictionary<string, string[]> Range(string? from, string? to, string? limit, SiteOptions site, QueryApiOptions options,
        LeadScoreOptions leads, TimeProvider time, out StatsRange? range)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        var companyDefaults = new QueryApiOptions
        {
            DefaultRangeDays = Math.Min(leads.DefaultRangeDays, options.MaxRangeDays),
            MaxRangeDays = options.MaxRangeDays,
            MaxHourlyRangeDays = options.MaxHourlyRangeDays,
            DefaultLimit = options.DefaultLimit,
            MaxLimit = options.MaxLimit,
        };
        var ok = StatsRange.TryCreate(from, to, null, limit, zone, time.GetUtcNow(), companyDefaults, out var parsed, out var errors);
        range = ok ? parsed : null;
        return errors;
    }

    public static CompanySort Sort(string? value, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return CompanySort.Score;
        }

        if (value.Length <= 20 && Sorts.TryGetValue(value, out var sort))
        {
            return sort;
        }

        errors["sort"] = [$"'sort' must be one of {string.Join(", ", Sorts.Keys)}."];
        return CompanySort.Score;
    }

    /// <summary>Names sort A to Z by default, everything else biggest (or latest) first.</summary>
    public static bool Descending(string? value, CompanySort sort, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return sort != CompanySort.Name;
        }

        if (value.Equals("desc", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (value.Equals("asc", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        errors["order"] = ["'order' must be 'asc' or 'desc'."];
        return true;
    }

    public static int Integer(string name, string? value, int min, int max, int fallback, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }

        if (value.Length <= 6 && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max)
        {
            return number;
        }

        errors[name] = [$"'{name}' must be a whole number from {min} to {max}."];
        return fallback;
    }

    /// <summary>A yes/no filter: <c>true</c> turns it on; absent or <c>false</c> leaves it off.</summary>
    public static bool Flag(string name, string? value, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value) || value.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (value.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        errors[name] = [$"'{name}' must be 'true' or 'false'."];
        return false;
    }

    /// <summary>A name or domain fragment: plain text, bounded, no control characters.</summary>
    public static string Search(string? value, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "";
        }

        if (value.Length > MaxSearchLength || value.Any(char.IsControl))
        {
            errors["q"] = [$"'q' must be at most {MaxSearchLength} characters of text."];
            return "";
        }

        return value.Trim();
    }

    /// <summary>The shape the processors give company ids: a slug of the name, a dash, 8 hex digits.</summary>
    public static bool IsCompanyId(string? value) => value is { Length: > 0 and <= 80 } && CompanyId().IsMatch(value);

    [GeneratedRegex(@"^[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{8}\z", RegexOptions.CultureInvariant)]
    private static partial Regex CompanyId();
}
