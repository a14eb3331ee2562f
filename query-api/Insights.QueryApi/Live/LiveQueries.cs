using System.Globalization;
using Insights.Contracts;
using Insights.QueryApi.Companies;
using Insights.QueryApi.Pipeline;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live;

/// <summary>Who is on a site now, filtered. Authorized like every report (<see cref="TenantAuthorizationBehavior{TMessage,TResponse}"/>).</summary>
public sealed record LiveSnapshotQuery(string Site, PresentedKey Key, string? Companies, string? MinScore, string? Page, string? Country)
    : IQuery<QueryOutcome<LiveSnapshot>>, ISiteQuery<LiveSnapshotQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public LiveSnapshotQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

/// <summary>A subscription to a site's stream, resumed after <see cref="LastEventId"/> when given.</summary>
public sealed record LiveStreamQuery(string Site, PresentedKey Key, string? LastEventId)
    : IQuery<QueryOutcome<LiveSubscription>>, ISiteQuery<LiveStreamQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public LiveStreamQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

/// <summary>What an authorized stream reads: the site's presence, and the id to resume after (null: start with a snapshot).</summary>
public sealed record LiveSubscription(SitePresence Presence, long? ResumeAfter);

public sealed class LiveQueryHandlers(PresenceBoard board, IOptions<LiveOptions> options, TimeProvider time)
    : IQueryHandler<LiveSnapshotQuery, QueryOutcome<LiveSnapshot>>, IQueryHandler<LiveStreamQuery, QueryOutcome<LiveSubscription>>
{
    public const string Attribution = "IP Geolocation by DB-IP (https://db-ip.com), CC BY 4.0";
    private const int MaxPageFilter = 2_000;

    public ValueTask<QueryOutcome<LiveSnapshot>> Handle(LiveSnapshotQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite ?? throw new InvalidOperationException("LiveSnapshotQuery reached its handler unauthorized.");
        if (Unavailable() is { } problem)
        {
            return ValueTask.FromResult<QueryOutcome<LiveSnapshot>>(problem);
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var companies = query.Companies switch
        {
            null or "" or "false" => false,
            "true" => true,
            _ => Invalid(errors, "companies", "'companies' must be true or false."),
        };
        var minScore = CompanyParameters.Integer("min_score", query.MinScore, 0, 100, 0, errors);
        if (query.Page is { } page && (page.Length > MaxPageFilter || !page.StartsWith('/') || page.Any(char.IsControl)))
        {
            errors["page"] = [$"'page' must be a path starting with '/', at most {MaxPageFilter} characters."];
        }

        if (query.Country is { } country && (country.Length != 2 || !country.All(char.IsAsciiLetter)))
        {
            errors["country"] = ["'country' must be an ISO 3166-1 alpha-2 code such as DE."];
        }

        if (errors.Count > 0)
        {
            return ValueTask.FromResult<QueryOutcome<LiveSnapshot>>(QueryProblem.Invalid(errors));
        }

        var (visitors, eventId) = board.Site(site.Id).Snapshot(time.GetUtcNow());
        var matching = visitors.Where(v => (!companies || v.Company is not null) && v.Score >= minScore
            && (query.Page is null || string.Equals(v.Page?.Path, query.Page, StringComparison.Ordinal))
            && (query.Country is null || string.Equals(v.Location?.Country, query.Country, StringComparison.OrdinalIgnoreCase))).ToList();
        return ValueTask.FromResult<QueryOutcome<LiveSnapshot>>(new LiveSnapshot(site.Id, eventId, visitors.Count, matching, Attribution));
    }

    public ValueTask<QueryOutcome<LiveSubscription>> Handle(LiveStreamQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite ?? throw new InvalidOperationException("LiveStreamQuery reached its handler unauthorized.");
        if (Unavailable() is { } problem)
        {
            return ValueTask.FromResult<QueryOutcome<LiveSubscription>>(problem);
        }

        long? after = null;
        if (!string.IsNullOrEmpty(query.LastEventId))
        {
            // An id that is not ours (malformed, from a proxy) is treated as too old: the client gets a reset, not an error.
            after = long.TryParse(query.LastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1;
        }

        return ValueTask.FromResult<QueryOutcome<LiveSubscription>>(new LiveSubscription(board.Site(site.Id), after));
    }

    private QueryProblem? Unavailable() =>
        !options.Value.Enabled
            ? new QueryProblem(StatusCodes.Status503ServiceUnavailable, "live_disabled", "Live presence is off",
                "This instance does not run live presence (Live:Enabled is false).")
            : !board.IsReady
                ? new QueryProblem(StatusCodes.Status503ServiceUnavailable, "live_starting", "Live presence is starting",
                    "Presence is being rebuilt from storage; try again in a few seconds.")
                : null;

    private static bool Invalid(Dictionary<string, string[]> errors, string name, string message)
    {
        errors[name] = [message];
        return false;
    }
}
