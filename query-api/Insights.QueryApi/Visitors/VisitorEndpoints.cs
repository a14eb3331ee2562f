using System.ComponentModel;
using Insights.QueryApi.Apis;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Insights.QueryApi.Visitors;

/// <summary>The visitor endpoint, mapped into the reports group of <see cref="QueryApi"/>.</summary>
public static class VisitorEndpoints
{
    public static IServiceCollection AddVisitorReports(this IServiceCollection services) => services.AddSingleton<VisitorStore>();

    public static RouteGroupBuilder MapVisitorReports(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/visitors/{id}", GetVisitor)
            .WithName("GetVisitor")
            .WithSummary("A visitor's visits, pages and events")
            .WithDescription(
                "Everything the site saw of one anonymous visitor: totals over all visits, the latest visits with their pages, " +
                "channel, device and location, the latest events, and the company behind the visitor's network when it is a " +
                "business. Bot and datacenter events are left out. Location and company come from IP data: show the " +
                "response's 'attribution' with them (IP Geolocation by DB-IP, https://db-ip.com, CC BY 4.0).");
        return api;
    }

    public static async Task<Results<Ok<VisitorResponse>, ValidationProblem, ProblemHttpResult>> GetVisitor(
        [AsParameters] VisitorParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);

        var query = new VisitorQuery(parameters.Site, ReadKeys.From(context.Request), parameters.Id, parameters.Limit, parameters.EventsLimit);
        return (await sender.Send(query, context.RequestAborted)).ToHttpResult(context.Response);
    }
}

public sealed record VisitorParameters(
    [property: FromRoute(Name = "site"), Description("Site id.")] string Site,
    [property: FromRoute(Name = "id"), Description("The visitor's anonymous id (the tracker's visitor id).")] string Id,
    [property: FromQuery(Name = "limit"), Description("Latest visits to list: 1-100, default 20.")] string? Limit,
    [property: FromQuery(Name = "events_limit"), Description("Latest events to list: 1-1000, default 100.")] string? EventsLimit);
