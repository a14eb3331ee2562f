using Insights.Contracts;
using Insights.QueryApi.Pipeline;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Stats;

/// <summary>
/// The overview of one site: traffic, visits and their breakdowns, optionally filtered and compared with the previous
/// period. Parameters are raw: they are read in the site's time zone, which is known only once the key has been checked.
/// </summary>
public sealed record StatsQuery(string Site, PresentedKey Key, string? From, string? To, string? Interval, string? Limit)
    : IQuery<QueryOutcome<StatsResponse>>, ISiteQuery<StatsQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    /// <summary><c>previous</c> to compare with the period before; empty or <c>none</c> not to.</summary>
    public string? Compare { get; init; }

    public string? Page { get; init; }

    public string? Country { get; init; }

    public string? Channel { get; init; }

    public string? Company { get; init; }

    public string? Referrer { get; init; }

    public string? Campaign { get; init; }

    /// <summary>The sections to compute (<see cref="StatsSections"/>), comma-separated; null for all.</summary>
    public string? Include { get; init; }

    /// <summary>True when the request named a parameter the report does not know (a misspelt filter would otherwise
    /// silently answer for everything).</summary>
    public bool HasUnknownParameters { get; init; }

    public StatsQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

public sealed class StatsQueryHandler(StatsStore store, IOptions<QueryApiOptions> options, TimeProvider time)
    : IQueryHandler<StatsQuery, QueryOutcome<StatsResponse>>
{
    /// <summary>Every query parameter the stats report reads.</summary>
    public static readonly IReadOnlyList<string> Parameters = ["from", "to", "interval", "limit", "compare", "include", .. StatsFilter.Names];

    public async ValueTask<QueryOutcome<StatsResponse>> Handle(StatsQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite
            ?? throw new InvalidOperationException("StatsQuery reached its handler unauthorized; TenantAuthorizationBehavior must run first.");

        var zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        var validRange = StatsRange.TryCreate(query.From, query.To, query.Interval, query.Limit, zone, time.GetUtcNow(), options.Value, out var range, out var errors);
        var filter = StatsFilter.Parse(query.Page, query.Country, query.Channel, query.Company, query.Referrer, query.Campaign, errors);
        var compare = false;
        if (string.Equals(query.Compare, "previous", StringComparison.OrdinalIgnoreCase))
        {
            compare = true;
        }
        else if (!string.IsNullOrEmpty(query.Compare) && !string.Equals(query.Compare, "none", StringComparison.OrdinalIgnoreCase))
        {
            errors["compare"] = ["'compare' must be 'previous' or 'none'."];
        }

        if (compare && validRange && range.Previous() is null)
        {
            errors["compare"] = ["The period before this range would begin before 1970-01-02; choose a later range to compare."];
        }

        var sections = StatsSectionsParser.Parse(query.Include, errors);
        if (query.HasUnknownParameters)
        {
            errors["parameters"] = [$"Unknown query parameter; this report reads {string.Join(", ", Parameters)}."];
        }

        if (errors.Count > 0)
        {
            return QueryProblem.Invalid(errors);
        }

        return await store.GetAsync(site, range, filter, compare, sections, cancellationToken);
    }
}

/// <summary>The stats report's optional sections; the totals and the series are always computed.</summary>
[Flags]
public enum StatsSections
{
    None = 0,
    Pages = 1,
    Referrers = 2,
    Breakdowns = 4,
    All = Pages | Referrers | Breakdowns,
}

internal static class StatsSectionsParser
{
    private static readonly string[] Names = ["totals", "pages", "referrers", "breakdowns"];

    /// <summary>The sections <paramref name="include"/> names (null or absent: all); an unknown name is an error for 'include'.</summary>
    public static StatsSections Parse(string? include, Dictionary<string, string[]> errors)
    {
        if (include is null)
        {
            return StatsSections.All;
        }

        var sections = StatsSections.None;
        var names = include.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in names)
        {
            switch (name.ToLowerInvariant())
            {
                case "totals":
                    break;
                case "pages":
                    sections |= StatsSections.Pages;
                    break;
                case "referrers":
                    sections |= StatsSections.Referrers;
                    break;
                case "breakdowns":
                    sections |= StatsSections.Breakdowns;
                    break;
                default:
                    errors["include"] = [$"'{(name.Length > 40 ? name[..40] + "…" : name)}' is not a section; 'include' takes {string.Join(", ", Names)} (comma-separated)."];
                    return sections;
            }
        }

        if (names.Length == 0)
        {
            errors["include"] = [$"'include' is empty; name the sections to compute: {string.Join(", ", Names)} ('totals' for the totals and series only)."];
        }

        return sections;
    }
}
