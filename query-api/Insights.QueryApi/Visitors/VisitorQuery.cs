using System.ComponentModel;
using System.Data.Common;
using System.Globalization;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Companies;
using Insights.QueryApi.Pipeline;
using Insights.QueryApi.Storage;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Visitors;

/// <summary>One visitor's profile: visits, pages, events, and who and where they are.</summary>
public sealed record VisitorQuery(string Site, PresentedKey Key, string Id, string? Limit, string? EventsLimit)
    : IQuery<QueryOutcome<VisitorResponse>>, ISiteQuery<VisitorQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public VisitorQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

/// <summary>A visitor as the site saw them.</summary>
public sealed record VisitorResponse(
    [property: Description("The site id.")] string Site,
    [property: Description("The site's IANA time zone; times are in it.")] string TimeZone,
    [property: Description("The visitor's anonymous id.")] string Id,
    [property: Description("The site's own id for the visitor, once identified.")] string? UserId,
    [property: Description("Start of the first visit.")] DateTimeOffset FirstSeen,
    [property: Description("End of the latest visit.")] DateTimeOffset LastSeen,
    [property: Description("All visits (sessions) of the visitor.")] long Visits,
    [property: Description("Page views over all visits.")] long PageViews,
    [property: Description("The company of the latest visit that came from a business network.")] CompanyRef? Company,
    [property: Description("Where the latest visit came from (IP geolocation).")] Location? Location,
    [property: Description("The latest visit's device.")] Device? Device,
    [property: Description("The latest visits, most recent first (at most 'limit').")] IReadOnlyList<Visit> Sessions,
    [property: Description("The latest events, most recent first (at most 'events_limit'): page views with their page, custom events with their name.")] IReadOnlyList<VisitorEvent> Events,
    [property: Description("Credit to show with the data.")] DataAttribution Attribution);

public sealed record VisitorEvent(
    string EventId,
    [property: Description("pageview, track, identify, chat_*, order ...")] string Type,
    [property: Description("Custom event name (track); the page's or screen's name for a named page view or screen (Segment's page(\"Pricing\")).")] string? Name,
    DateTimeOffset Timestamp,
    string? Path,
    string? Title,
    [property: Description("The visit the event belongs to.")] string? SessionId,
    [property: Description("The page's or screen's category, when the sender named one (Segment's page(\"Docs\", \"Pricing\")).")] string? Category = null);

public sealed class VisitorQueryHandler(VisitorStore store, IOptions<QueryApiOptions> options)
    : IQueryHandler<VisitorQuery, QueryOutcome<VisitorResponse>>
{
    /// <summary>Ingest accepts anonymous ids up to 256 characters; anything longer was never stored.</summary>
    public const int MaxIdLength = 256;

    public const int MaxEvents = 1_000;
    public const int DefaultEvents = 100;

    public async ValueTask<QueryOutcome<VisitorResponse>> Handle(VisitorQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite
            ?? throw new InvalidOperationException("VisitorQuery reached its handler unauthorized; TenantAuthorizationBehavior must run first.");

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(query.Id) || query.Id.Length > MaxIdLength || query.Id.Any(char.IsControl))
        {
            errors["id"] = [$"'id' must be a visitor's anonymous id: 1 to {MaxIdLength} characters of text."];
        }

        var limit = CompanyParameters.Integer("limit", query.Limit, 1, options.Value.MaxLimit, Math.Min(20, options.Value.MaxLimit), errors);
        var events = CompanyParameters.Integer("events_limit", query.EventsLimit, 1, MaxEvents, DefaultEvents, errors);
        if (errors.Count > 0)
        {
            return QueryProblem.Invalid(errors);
        }

        return await store.GetAsync(site, query.Id, limit, events, cancellationToken) is { } visitor
            ? visitor
            : new QueryProblem(StatusCodes.Status404NotFound, "visitor_not_found", "Visitor not found",
                "This site has no visit and no event of a visitor with this id.");
    }
}

/// <summary>
/// The visitor profile's SQL: constant statements, the site and visitor id as parameters. Sessions come from
/// <c>sessions FINAL</c> (each visit once, replays collapsed), events from <c>events FINAL</c> without bot traffic.
/// </summary>
public sealed class VisitorStore(ReportsDatabase database)
{
    private const string TotalsSql = """
        SELECT count() AS visits, sum(page_views) AS views,
               toUnixTimestamp64Milli(min(started_at)), toUnixTimestamp64Milli(max(ended_at)),
               argMax(user_id, ended_at),
               argMaxIf(tuple(company_id, company_name, company_domain), ended_at, company_id != '')
        FROM sessions FINAL
        WHERE site_id = {site:String} AND anonymous_id = {id:String}
        """;

    private const string SessionsSql = "SELECT " + VisitRows.Columns + """

        FROM sessions FINAL
        WHERE site_id = {site:String} AND anonymous_id = {id:String}
        ORDER BY started_at DESC, session_id
        LIMIT {limit:UInt32}
        """;

    // The bloom filter on anonymous_id (migration 0003) lets this skip the site's other visitors' granules.
    private const string EventsSql = """
        SELECT event_id, type, name, toUnixTimestamp64Milli(timestamp), path, title, session_id,
               if(type IN ('pageview', 'screen'), JSONExtractString(properties, 'category'), '') AS category
        FROM events FINAL
        WHERE site_id = {site:String} AND anonymous_id = {id:String} AND bot_reason = ''
        ORDER BY timestamp DESC, event_id
        LIMIT {events:UInt32}
        """;

    public async Task<VisitorResponse?> GetAsync(SiteOptions site, string id, int limit, int events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(site);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        var totals = database.QueryAsync("visitor.totals", TotalsSql, Parameters(site, id, limit, events), ReadTotals, cancellationToken);
        var sessions = database.QueryAsync("visitor.sessions", SessionsSql, Parameters(site, id, limit, events), r => VisitRows.Read(r, zone), cancellationToken);
        var recent = database.QueryAsync("visitor.events", EventsSql, Parameters(site, id, limit, events),
            r => new VisitorEvent(r.GetString(0), r.GetString(1), Optional(r.GetString(2)),
                TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture)), zone),
                Optional(r.GetString(4)), Optional(r.GetString(5)), Optional(r.GetString(6)), Optional(r.GetString(7))),
            cancellationToken);
        await Task.WhenAll(totals, sessions, recent);

        var total = (await totals).Single();
        var visits = await sessions;
        var eventList = await recent;
        if (total.Visits == 0 && eventList.Count == 0)
        {
            return null;
        }

        var latest = visits.FirstOrDefault();
        DateTimeOffset At(long ms) => TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(ms), zone);
        var first = total.Visits > 0 ? At(total.FirstSeen) : eventList[^1].Timestamp;
        var last = total.Visits > 0 ? At(total.LastSeen) : eventList[0].Timestamp;
        return new VisitorResponse(site.Id, site.TimeZone, id, total.UserId, first, last, total.Visits, total.PageViews,
            total.Company, latest?.Location, latest?.Device, visits, eventList, DataAttribution.DbIp);
    }

    private static ClickHouseParameterCollection Parameters(SiteOptions site, string id, int limit, int events)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site.Id);
        parameters.AddParameter("id", id);
        parameters.AddParameter("limit", (uint)limit);
        parameters.AddParameter("events", (uint)events);
        return parameters;
    }

    private static Totals ReadTotals(DbDataReader r)
    {
        long Number(int i) => Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);
        var company = r.GetValue(5) as System.Runtime.CompilerServices.ITuple;
        var companyId = company?[0] as string;
        return new Totals(Number(0), Number(1), Number(2), Number(3), Optional(r.GetString(4)),
            string.IsNullOrEmpty(companyId) ? null : new CompanyRef(companyId, company![1] as string ?? "", Optional(company[2] as string)));
    }

    private static string? Optional(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private sealed record Totals(long Visits, long PageViews, long FirstSeen, long LastSeen, string? UserId, CompanyRef? Company);
}
