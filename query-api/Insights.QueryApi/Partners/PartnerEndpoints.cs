using System.ComponentModel;
using Insights.QueryApi.Apis;
using Insights.QueryApi.Live;
using Insights.ServiceDefaults;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Partners;

/// <summary>
/// The partner roll-ups: what an agency sees over all its clients' sites. Each endpoint sends a query that the tenant
/// behaviour authorizes (partner admin or staff); its handler covers only the client sites the person may see.
/// </summary>
public static class PartnerEndpoints
{
    public static IServiceCollection AddPartnerRollups(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<PartnerRollupOptions>(configuration, PartnerRollupOptions.Section);
        services.AddSingleton<PartnerDirectory>();
        services.AddSingleton<PartnerRollupStore>();
        return services;
    }

    public static IEndpointRouteBuilder MapPartnerRollups(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/partners/{partner}")
            .WithTags("Partners")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapGet("/companies", GetCompanies)
            .WithName("GetPartnerCompanies")
            .WithSummary("Companies seen across the partner's client sites")
            .WithDescription(
                "Businesses identified on any client site the caller may see (a partner admin: every client; partner staff: the " +
                "clients they are assigned to), with visits that began in [from, to) (UTC without an offset), and per client site " +
                "the lead score exactly as that site's company report computes it. A company is ranked by its best score at one " +
                "client. live=1 is the same as /companies/now. One ClickHouse query covers every site; at most Partners:MaxSites " +
                "sites per call (choose them with 'sites').");
        api.MapGet("/companies/now", GetCompaniesNow)
            .WithName("GetPartnerCompaniesNow")
            .WithSummary("Companies on the partner's client sites right now")
            .WithDescription("Companies with a visit active in the last Partners:LiveWindowMinutes minutes (default 5), on any client site the caller may see.");
        api.MapGet("/revenue", GetRevenue)
            .WithName("GetPartnerRevenue")
            .WithSummary("Revenue and chat-attributed revenue per client")
            .WithDescription(
                "Per client organisation and per site: orders placed in [from, to) (UTC without an offset), net revenue and revenue " +
                "credited to chats under the model, with the same definitions as a site's sales report. Amounts are in each site's " +
                "reporting currency and are reported per currency: different currencies are never added.");
        api.MapGet("/live", GetLive)
            .WithName("GetPartnerLive")
            .WithSummary("Who is on the partner's client sites now")
            .WithDescription(
                "The visitors present now on any client site the caller may see, most recently seen first, at most 'limit' (default " +
                "200; 'total' counts everyone present, 'matching' everyone the filters keep), each with its site and " +
                "client organisation and the same visitor body as a site's GET /live. Companies only by default (companies=false " +
                "shows everyone); min_score and country as on a site. 'eventId' is the partner stream's position the snapshot is " +
                "current to: open /live/stream with it as Last-Event-ID to follow without a gap. 503 'live_starting' while presence rebuilds.");
        api.MapGet("/live/stream", GetLiveStream)
            .WithName("GetPartnerLiveStream")
            .WithSummary("The client sites' presence changes as one Server-Sent Events stream")
            .WithDescription(
                "text/event-stream. A 'snapshot' event (every visitor, unfiltered), then each client site's 'visitor_joined', " +
                "'page_changed', 'visitor_updated' and 'visitor_left' as they happen, data {site, organisation, organisationName, " +
                "visitor}. Each id encodes every site's position: reconnect with it as 'Last-Event-ID' to resume without a gap; when " +
                "it cannot be resumed (too old, another instance, the visible sites changed) the stream starts with a 'reset' event " +
                "carrying a fresh snapshot. A ': heartbeat' comment every Live:HeartbeatSeconds.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        return app;
    }

    public static async Task<Results<Ok<PartnerLiveSnapshot>, ValidationProblem, ProblemHttpResult>> GetLive(
        [AsParameters] PartnerLiveViewParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        var outcome = await sender.Send(new PartnerLiveQuery(parameters.Partner, ReadKeys.From(context.Request), parameters.Sites, parameters.Companies,
            parameters.MinScore, parameters.Country, parameters.Limit), context.RequestAborted);
        LiveEndpoints.RetryLater(outcome.Problem, context.Response);
        return outcome.ToHttpResult(context.Response);
    }

    public static async Task<Results<LiveStreamResult, ValidationProblem, ProblemHttpResult>> GetLiveStream(
        [FromRoute(Name = "partner"), Description("Partner id.")] string partner,
        [FromQuery(Name = "sites"), Description("Only these client sites (comma-separated ids).")] string? sites,
        [FromHeader(Name = "Last-Event-ID"), Description("The id of the last event received, to resume after it.")] string? lastEventId,
        HttpContext context, ISender sender, IOptions<LiveOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(options);
        var outcome = await sender.Send(new PartnerLiveStreamQuery(partner, ReadKeys.From(context.Request), sites, lastEventId), context.RequestAborted);
        LiveEndpoints.RetryLater(outcome.Problem, context.Response);
        return outcome.ToHttpResult(context.Response,
            feed => new LiveStreamResult(feed, TimeSpan.FromSeconds(options.Value.HeartbeatSeconds), time));
    }

    public static async Task<Results<Ok<PartnerCompaniesResponse>, ValidationProblem, ProblemHttpResult>> GetCompanies(
        [AsParameters] PartnerCompaniesParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        return (await sender.Send(new PartnerCompaniesQuery(parameters.Partner, ReadKeys.From(context.Request), parameters.From, parameters.To, parameters.Live, parameters.Limit, parameters.Sites), context.RequestAborted)).ToHttpResult(context.Response);
    }

    public static async Task<Results<Ok<PartnerCompaniesResponse>, ValidationProblem, ProblemHttpResult>> GetCompaniesNow(
        [AsParameters] PartnerLiveParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        return (await sender.Send(new PartnerCompaniesQuery(parameters.Partner, ReadKeys.From(context.Request), null, null, "1", parameters.Limit, parameters.Sites), context.RequestAborted)).ToHttpResult(context.Response);
    }

    public static async Task<Results<Ok<PartnerRevenueResponse>, ValidationProblem, ProblemHttpResult>> GetRevenue(
        [AsParameters] PartnerRevenueParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        return (await sender.Send(new PartnerRevenueQuery(parameters.Partner, ReadKeys.From(context.Request), parameters.From, parameters.To, parameters.Model, parameters.Sites), context.RequestAborted)).ToHttpResult(context.Response);
    }
}

public sealed record PartnerCompaniesParameters(
    [property: FromRoute(Name = "partner"), Description("Partner id.")] string Partner,
    [property: FromQuery(Name = "from"), Description("Start (inclusive): ISO date or datetime, UTC without an offset. Default: 'to' minus 7 days.")] string? From,
    [property: FromQuery(Name = "to"), Description("End (exclusive). Default: the end of today (UTC).")] string? To,
    [property: FromQuery(Name = "live"), Description("1: companies on the sites now (as /companies/now; no from/to).")] string? Live,
    [property: FromQuery(Name = "limit"), Description("Companies: 1-100, default 10.")] string? Limit,
    [property: FromQuery(Name = "sites"), Description("Only these client sites (comma-separated ids). Default: every one you may see.")] string? Sites);

public sealed record PartnerLiveParameters(
    [property: FromRoute(Name = "partner"), Description("Partner id.")] string Partner,
    [property: FromQuery(Name = "limit"), Description("Companies: 1-100, default 10.")] string? Limit,
    [property: FromQuery(Name = "sites"), Description("Only these client sites (comma-separated ids).")] string? Sites);

public sealed record PartnerLiveViewParameters(
    [property: FromRoute(Name = "partner"), Description("Partner id.")] string Partner,
    [property: FromQuery(Name = "sites"), Description("Only these client sites (comma-separated ids).")] string? Sites,
    [property: FromQuery(Name = "companies"), Description("false: every visitor; default true: only visitors from an identified company.")] string? Companies,
    [property: FromQuery(Name = "min_score"), Description("Only visits with at least this lead score (0-100).")] string? MinScore,
    [property: FromQuery(Name = "country"), Description("Only visitors from this country (ISO 3166-1 alpha-2).")] string? Country,
    [property: FromQuery(Name = "limit"), Description("List at most this many of the matching visitors, most recently seen first (1-1000, default 200); 'total' and 'matching' count everyone.")] string? Limit = null);

public sealed record PartnerRevenueParameters(
    [property: FromRoute(Name = "partner"), Description("Partner id.")] string Partner,
    [property: FromQuery(Name = "from"), Description("Start (inclusive): ISO date or datetime, UTC without an offset. Default: 'to' minus 7 days.")] string? From,
    [property: FromQuery(Name = "to"), Description("End (exclusive). Default: the end of today (UTC).")] string? To,
    [property: FromQuery(Name = "model"), Description("Attribution model: last_chat (default), first_chat, linear, time_decay, chat_assisted, during_chat.")] string? Model,
    [property: FromQuery(Name = "sites"), Description("Only these client sites (comma-separated ids).")] string? Sites);
