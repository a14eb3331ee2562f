using System.ComponentModel;
using Insights.QueryApi.Pipeline;
using Insights.QueryApi.Stats;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Insights.QueryApi.Apis;

/// <summary>The report and subject-request endpoints. Each turns HTTP into a query, sends it through the mediator pipeline (metrics, then
/// tenant authorization, then the handler) and turns the outcome into HTTP in one place.</summary>
public static class QueryApi
{
    public static IEndpointRouteBuilder MapQueryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/sites/{site}")
            .WithTags("Reports")
            .RequireReadKey()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapGet("/stats", GetStats)
            .WithName("GetStats")
            .WithSummary("Traffic overview of a site")
            .WithDescription(
                "Visitors, page views, visits, bounce rate, visit duration and views per visit over [from, to), a time series, top " +
                "pages, entry and exit pages, referrers, channels, UTM sources, mediums and campaigns, countries, regions, cities, " +
                "devices, browsers and operating systems. compare=previous adds the period of the same length before the range. " +
                "The filters page, country, channel, company, referrer and campaign apply to every figure (a visit matches when it " +
                "has the property; page-view figures count the page views of matching visits, and page also keeps only that " +
                "page's views). Visit figures count the visits (sessions) that began in the range. Dates without an offset are " +
                "read in the site's time zone; the default range is the last 7 days including today. Counts are exact: an event " +
                "delivered twice counts once. An unknown query parameter is refused, so a misspelt filter never answers for everything.");

        Sales.RevenueReports.MapRevenueReports(api);
        Companies.CompanyEndpoints.MapCompanyReports(api);
        Visitors.VisitorEndpoints.MapVisitorReports(api);
        Live.LiveEndpoints.MapLive(api);
        Live.Invitations.InvitationEndpoints.MapInvitationFunnel(api);

        // A visitor's page receiving its invitations: the write key, public input.
        Live.VisitorChannelEndpoints.MapVisitorChannel(app);

        // A person's data needs the server key, not a read key: its own group, so the OpenAPI document says which.
        Subjects.SubjectEndpoints.MapSubjectRequests(app);

        // What a partner sees over its clients' sites: for signed-in people, not keys.
        Partners.PartnerEndpoints.MapPartnerRollups(app);
        return app;
    }

    public static async Task<Results<Ok<StatsResponse>, ValidationProblem, ProblemHttpResult>> GetStats(
        [AsParameters] StatsParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);

        var query = new StatsQuery(parameters.Site, ReadKeys.From(context.Request),
            parameters.From, parameters.To, parameters.Interval, parameters.Limit)
        {
            Compare = parameters.Compare,
            Page = parameters.Page,
            Country = parameters.Country,
            Channel = parameters.Channel,
            Company = parameters.Company,
            Referrer = parameters.Referrer,
            Campaign = parameters.Campaign,
            Include = parameters.Include,
            HasUnknownParameters = context.Request.Query.Keys.Any(k => !StatsQueryHandler.Parameters.Contains(k, StringComparer.OrdinalIgnoreCase)
                && !k.Equals(ReadKeys.QueryName, StringComparison.OrdinalIgnoreCase)),
        };
        var outcome = await sender.Send(query, context.RequestAborted);
        return outcome.ToHttpResult(context.Response);
    }
}

/// <summary>
/// The stats endpoint's parameters, bound as strings so that a malformed value is answered by our own validation
/// (a 400 naming the parameter, after the key was checked) rather than by the framework's binder.
/// </summary>
public sealed record StatsParameters(
    [property: FromRoute(Name = "site"), Description("Site id.")] string Site,
    [property: FromQuery(Name = "from"), Description("Start (inclusive): ISO date or datetime; without an offset it is read in the site's time zone. Default: 'to' minus 7 days.")] string? From,
    [property: FromQuery(Name = "to"), Description("End (exclusive): ISO date or datetime. Default: the end of today in the site's time zone.")] string? To,
    [property: FromQuery(Name = "interval"), Description("Series bucket: 'hour' (ranges up to 31 days) or 'day' (default).")] string? Interval,
    [property: FromQuery(Name = "limit"), Description("Rows in each list (pages, referrers, every breakdown): 1-100, default 10.")] string? Limit,
    [property: FromQuery(Name = "compare"), Description("'previous' adds the period of the same length before the range (its totals, change and series); default none.")] string? Compare,
    [property: FromQuery(Name = "page"), Description("Filter: a page path; page views of this page, visits that viewed it.")] string? Page,
    [property: FromQuery(Name = "country"), Description("Filter: ISO 3166-1 alpha-2 country of the visit (DE).")] string? Country,
    [property: FromQuery(Name = "channel"), Description("Filter: channel of the visit: search, social, email, paid, referral or direct.")] string? Channel,
    [property: FromQuery(Name = "company"), Description("Filter: company id of the visit's network, as /companies returns it.")] string? Company,
    [property: FromQuery(Name = "referrer"), Description("Filter: host the visit landed from (www. ignored).")] string? Referrer,
    [property: FromQuery(Name = "campaign"), Description("Filter: utm_campaign of the visit's landing page.")] string? Campaign,
    [property: FromQuery(Name = "include"), Description("Sections to compute besides the totals and the series (always there), comma-separated: pages, referrers, breakdowns; 'totals' for none of them. Default: all. A section left out is an empty list, and costs nothing: a counter that needs only the totals should ask for include=totals.")] string? Include);
