using System.ComponentModel;
using Insights.QueryApi.Apis;
using Insights.QueryApi.Pipeline;
using Insights.ServiceDefaults;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Insights.QueryApi.Companies;

/// <summary>The company endpoints, mapped into the reports group of <see cref="QueryApi"/> (read key, problem responses).</summary>
public static class CompanyEndpoints
{
    private const string Attribution =
        " Company names and locations come from IP data: show the response's 'attribution' with them " +
        "(IP Geolocation by DB-IP, https://db-ip.com, CC BY 4.0).";

    /// <summary>The lead-score settings (section <c>Leads</c>, validated at start-up) and the reports' store.</summary>
    public static IServiceCollection AddCompanyReports(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<LeadScoreOptions>(configuration, LeadScoreOptions.Section);
        services.AddSingleton<CompaniesStore>();
        return services;
    }

    public static RouteGroupBuilder MapCompanyReports(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/companies", GetCompanies)
            .WithName("GetCompanies")
            .WithSummary("Companies that visited the site, with a lead score")
            .WithDescription(
                "Businesses identified from visitors' networks (consumer ISPs, mobile carriers, hosters and anonymizers never " +
                "appear; bot and datacenter traffic is not counted) with their visits (sessions that began in [from, to)), " +
                "distinct visitors, page views, first and last seen, top pages and a lead score from 0 to 100: every visit earns " +
                "points (a base, more per page view, more for high-intent pages such as /pricing and /contact, configured in " +
                "the 'Leads' settings), halved for every half-life between the visit and 'to'. Sort by score (default), visits, " +
                "visitors, page_views, last_seen, first_seen or name; filter by min_score, q (part of the name or domain), country " +
                "(only visits from it count), identified=true (a visitor gave a user id) and target=true (the site's target accounts; " +
                "each company says whether it is one). " +
                "Counts are exact: a visit replayed by the pipeline counts once. The default range is the last 30 days." + Attribution);

        api.MapGet("/companies/{id}", GetCompany)
            .WithName("GetCompany")
            .WithSummary("A company's visit timeline")
            .WithDescription(
                "The company's totals and lead score over [from, to), its visitors, and its visits most recent first, each " +
                "with its pages, channel, device and location. 404 when no visit of the site ever came from the company; an " +
                "empty timeline when none fell in the range." + Attribution);
        return api;
    }

    public static async Task<Results<Ok<CompaniesResponse>, ValidationProblem, ProblemHttpResult>> GetCompanies(
        [AsParameters] CompaniesParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);

        var query = new CompaniesQuery(parameters.Site, ReadKeys.From(context.Request), parameters.From, parameters.To, parameters.Sort,
            parameters.Order, parameters.MinScore, parameters.Search, parameters.Limit, parameters.Offset)
        {
            Country = parameters.Country,
            Identified = parameters.Identified,
            Target = parameters.Target,
        };
        return (await sender.Send(query, context.RequestAborted)).ToHttpResult(context.Response);
    }

    public static async Task<Results<Ok<CompanyResponse>, ValidationProblem, ProblemHttpResult>> GetCompany(
        [AsParameters] CompanyTimelineParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);

        var query = new CompanyQuery(parameters.Site, ReadKeys.From(context.Request), parameters.Id, parameters.From, parameters.To,
            parameters.Limit, parameters.Offset);
        return (await sender.Send(query, context.RequestAborted)).ToHttpResult(context.Response);
    }
}

/// <summary>The company list's parameters, bound as strings so our validation answers a malformed one (after the key check).</summary>
public sealed record CompaniesParameters(
    [property: FromRoute(Name = "site"), Description("Site id.")] string Site,
    [property: FromQuery(Name = "from"), Description("Start (inclusive): ISO date or datetime, read in the site's time zone without an offset. Default: 'to' minus 30 days.")] string? From,
    [property: FromQuery(Name = "to"), Description("End (exclusive): ISO date or datetime. Default: the end of today in the site's time zone.")] string? To,
    [property: FromQuery(Name = "sort"), Description("score (default), visits, visitors, page_views, last_seen, first_seen or name.")] string? Sort,
    [property: FromQuery(Name = "order"), Description("asc or desc; default desc (asc for name).")] string? Order,
    [property: FromQuery(Name = "min_score"), Description("Only companies scoring at least this (0-100).")] string? MinScore,
    [property: FromQuery(Name = "q"), Description("Only companies whose name or domain contains this text (case-insensitive, at most 100 characters).")] string? Search,
    [property: FromQuery(Name = "limit"), Description("Companies per page: 1-100, default 10.")] string? Limit,
    [property: FromQuery(Name = "offset"), Description("Companies to skip: 0-10000, default 0.")] string? Offset,
    [property: FromQuery(Name = "country"), Description("Only visits from this country count (ISO 3166-1 alpha-2, DE); companies with none are left out.")] string? Country,
    [property: FromQuery(Name = "identified"), Description("true: only companies with a visitor who identified themselves (a user id).")] string? Identified,
    [property: FromQuery(Name = "target"), Description("true: only the site's target accounts (settings: targetAccounts).")] string? Target);

/// <summary>The company timeline's parameters.</summary>
public sealed record CompanyTimelineParameters(
    [property: FromRoute(Name = "site"), Description("Site id.")] string Site,
    [property: FromRoute(Name = "id"), Description("Company id, as the company list returns it.")] string Id,
    [property: FromQuery(Name = "from"), Description("Start (inclusive); default 'to' minus 30 days.")] string? From,
    [property: FromQuery(Name = "to"), Description("End (exclusive); default the end of today in the site's time zone.")] string? To,
    [property: FromQuery(Name = "limit"), Description("Visits per page: 1-100, default 10.")] string? Limit,
    [property: FromQuery(Name = "offset"), Description("Visits to skip: 0-10000, default 0.")] string? Offset);
