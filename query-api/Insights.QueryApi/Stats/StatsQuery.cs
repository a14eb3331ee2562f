using Insights.Contracts;
using Insights.QueryApi.Pipeline;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Stats;

/// <summary>Page views, visitors, top pages and referrers, and a time series for one site. Parameters are raw: they are
/// read in the site's time zone, which is known only once the key has been checked.</summary>
public sealed record StatsQuery(string Site, PresentedKey Key, string? From, string? To, string? Interval, string? Limit)
    : IQuery<QueryOutcome<StatsResponse>>, ISiteQuery<StatsQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public StatsQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

public sealed class StatsQueryHandler(StatsStore store, IOptions<QueryApiOptions> options, TimeProvider time)
    : IQueryHandler<StatsQuery, QueryOutcome<StatsResponse>>
{
    public async ValueTask<QueryOutcome<StatsResponse>> Handle(StatsQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite
            ?? throw new InvalidOperationException("StatsQuery reached its handler unauthorized; TenantAuthorizationBehavior must run first.");

        var zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        if (!StatsRange.TryCreate(query.From, query.To, query.Interval, query.Limit, zone, time.GetUtcNow(), options.Value, out var range, out var errors))
        {
            return QueryProblem.Invalid(errors);
        }

        return await store.GetAsync(site, range, cancellationToken);
    }
}
