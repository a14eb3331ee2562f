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
            .WithSummary("Traffic stats of a site")
            .WithDescription(
                "Page views, unique visitors, top pages, top referrers and a time series over [from, to). " +
                "Dates without an offset are read in the site's time zone; the default range is the last 7 days including today. " +
                "Counts are exact: an event delivered twice counts once.");

        Sales.RevenueReports.MapRevenueReports(api);
        Companies.CompanyEndpoints.MapCompanyReports(api);
        Visitors.VisitorEndpoints.MapVisitorReports(api);
        Live.LiveEndpoints.MapLive(api);

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
            parameters.From, parameters.To, parameters.Interval, parameters.Limit);
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
    [property: FromQuery(Name = "limit"), Description("Rows in the top pages and top referrers lists: 1-100, default 10.")] string? Limit);
