using System.Globalization;
using Insights.Contracts;
using Insights.QueryApi.Companies;
using Insights.QueryApi.Pipeline;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live;

/// <summary>Who is on a site now, filtered. Authorized like every report (<see cref="TenantAuthorizationBehavior{TMessage,TResponse}"/>).</summary>
public sealed record LiveSnapshotQuery(string Site, PresentedKey Key, string? Companies, string? MinScore, string? Page, string? Country, string? Limit = null)
    : IQuery<QueryOutcome<LiveSnapshot>>, ISiteQuery<LiveSnapshotQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public LiveSnapshotQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

/// <summary>A subscription to a site's stream, resumed after <see cref="LastEventId"/> when given.</summary>
public sealed record LiveStreamQuery(string Site, PresentedKey Key, string? LastEventId)
    : IQuery<QueryOutcome<LiveFeed>>, ISiteQuery<LiveStreamQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public LiveStreamQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

public sealed class LiveQueryHandlers(PresenceBoard board, IOptions<LiveOptions> options, TimeProvider time)
    : IQueryHandler<LiveSnapshotQuery, QueryOutcome<LiveSnapshot>>, IQueryHandler<LiveStreamQuery, QueryOutcome<LiveFeed>>
{
    public const string Attribution = "IP Geolocation by DB-IP (https://db-ip.com), CC BY 4.0";

    public ValueTask<QueryOutcome<LiveSnapshot>> Handle(LiveSnapshotQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite ?? throw new InvalidOperationException("LiveSnapshotQuery reached its handler unauthorized.");
        if (Unavailable() is { } problem)
        {
            return ValueTask.FromResult<QueryOutcome<LiveSnapshot>>(problem);
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var filter = LiveFilter.Parse(query.Companies, query.MinScore, query.Page, query.Country, companiesByDefault: false, errors);
        var limit = LiveFilter.Limit(query.Limit, errors);
        if (errors.Count > 0)
        {
            return ValueTask.FromResult<QueryOutcome<LiveSnapshot>>(QueryProblem.Invalid(errors));
        }

        var selection = board.Site(site.Id).Select(time.GetUtcNow(), filter, limit);
        return ValueTask.FromResult<QueryOutcome<LiveSnapshot>>(
            new LiveSnapshot(site.Id, selection.EventId, selection.Present, selection.Matching, selection.Visitors, Attribution));
    }

    public ValueTask<QueryOutcome<LiveFeed>> Handle(LiveStreamQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite ?? throw new InvalidOperationException("LiveStreamQuery reached its handler unauthorized.");
        if (Unavailable() is { } problem)
        {
            return ValueTask.FromResult<QueryOutcome<LiveFeed>>(problem);
        }

        long? after = null;
        if (!string.IsNullOrEmpty(query.LastEventId))
        {
            // An id that is not ours (malformed, from a proxy) is treated as too old: the client gets a reset, not an error.
            after = long.TryParse(query.LastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1;
        }

        return ValueTask.FromResult<QueryOutcome<LiveFeed>>(new SiteFeed(board.Site(site.Id), after));
    }

    private QueryProblem? Unavailable() => Unavailable(options.Value, board);

    /// <summary>The 503 every live view answers while presence is off or still rebuilding; null when it can answer.</summary>
    internal static QueryProblem? Unavailable(LiveOptions options, PresenceBoard board) =>
        !options.Enabled
            ? new QueryProblem(StatusCodes.Status503ServiceUnavailable, "live_disabled", "Live presence is off",
                "This instance does not run live presence (Live:Enabled is false).")
            : !board.IsReady
                ? new QueryProblem(StatusCodes.Status503ServiceUnavailable, "live_starting", "Live presence is starting",
                    "Presence is being rebuilt from storage; try again in a few seconds.")
                : null;
}
