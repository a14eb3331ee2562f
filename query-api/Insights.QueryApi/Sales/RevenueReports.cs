using System.Data.Common;
using System.Globalization;
using Insights.QueryApi.Goals;
using Insights.QueryApi.Orders;
using Insights.QueryApi.Pipeline;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Mediator;
using System.ComponentModel;
using Insights.QueryApi.Apis;

namespace Insights.QueryApi.Sales;

/// <summary>The revenue reports (sales, goals, an order's path): registrations and endpoints, mapped from
/// <c>Extensions</c> and <c>Apis/QueryApi</c> with one line each.</summary>
public static class RevenueReports
{
    public static IServiceCollection AddRevenueReports(this IServiceCollection services)
    {
        services.AddSingleton<SalesStore>();
        services.AddSingleton<GoalsStore>();
        services.AddSingleton<OrderPathStore>();
        services.AddSingleton<OrderListStore>();
        return services;
    }

    public static RouteGroupBuilder MapRevenueReports(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/sales", GetSales)
            .WithName("GetSales")
            .WithSummary("Revenue and what chat brought in")
            .WithDescription(
                "Orders placed in [from, to): revenue (net of refunds and cancellations) in the site's reporting currency, orders, " +
                "average order value, revenue attributed to chats under the chosen model, the conversion rate of visitors who chatted " +
                "against those who did not, and attributed revenue by agent, channel and day. Money is exact to 0.0001.");
        api.MapGet("/goals", GetGoals)
            .WithName("GetGoals")
            .WithSummary("Goal completions, conversion rates and the chat-assisted share")
            .WithDescription(
                "Every goal configured for the site, with its completions in [from, to), the visitors (persons) who completed it and " +
                "their share of all visitors, the summed value, and how many completions followed a chat by the same person within the " +
                "site's attribution window.");
        api.MapGet("/orders", GetOrders)
            .WithName("GetOrders")
            .WithSummary("Orders with their chats and every model's credit")
            .WithDescription(
                "Orders placed in [from, to), most recent first (cancelled ones included and marked), each with its amounts, the " +
                "chats in its attribution window and the revenue every model credits to chats; attributedRevenue is the chosen " +
                "model's. chatted=true keeps orders with a chat in their window, false those without. Page with limit (1-100, " +
                "default 10) and offset; total counts every match. /orders/{id} has an order's whole path.");
        api.MapGet("/orders/{id}", GetOrder)
            .WithName("GetOrderPath")
            .WithSummary("One order's path: visits, pages, chats and each model's credit")
            .WithDescription(
                "The order (amounts, refunds, cancellation) with its events, the person's ids, their sessions and pages in the " +
                "attribution window before it, the chats in that window and each chat's credit under every model.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return api;
    }

    public static async Task<Results<Ok<SalesResponse>, ValidationProblem, ProblemHttpResult>> GetSales(
        [AsParameters] SalesParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        var outcome = await sender.Send(new SalesQuery(parameters.Site, ReadKeys.From(context.Request), parameters.From, parameters.To, parameters.Model),
            context.RequestAborted);
        return outcome.ToHttpResult(context.Response);
    }

    public static async Task<Results<Ok<GoalsResponse>, ValidationProblem, ProblemHttpResult>> GetGoals(
        [AsParameters] GoalsParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        var outcome = await sender.Send(new GoalsQuery(parameters.Site, ReadKeys.From(context.Request), parameters.From, parameters.To),
            context.RequestAborted);
        return outcome.ToHttpResult(context.Response);
    }

    public static async Task<Results<Ok<OrderListResponse>, ValidationProblem, ProblemHttpResult>> GetOrders(
        [AsParameters] OrderListParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        var outcome = await sender.Send(new OrderListQuery(parameters.Site, ReadKeys.From(context.Request), parameters.From, parameters.To,
            parameters.Model, parameters.Chatted, parameters.Limit, parameters.Offset), context.RequestAborted);
        return outcome.ToHttpResult(context.Response);
    }

    public static async Task<Results<Ok<OrderPathResponse>, ValidationProblem, ProblemHttpResult>> GetOrder(
        [AsParameters] OrderParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        var outcome = await sender.Send(new OrderPathQuery(parameters.Site, ReadKeys.From(context.Request), parameters.Id), context.RequestAborted);
        return outcome.ToHttpResult(context.Response);
    }

    /// <summary>A Decimal(…, 4) column (or sum of one) as decimal; the driver hands out its own wide decimal type.</summary>
    internal static decimal Money(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? 0m : Convert.ToDecimal(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    internal static decimal? MoneyOrNull(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.ToDecimal(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    internal static long Long(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    /// <summary>A ratio for a response: 0 when there is nothing to divide by, rounded to 6 places.</summary>
    internal static double Rate(long part, long whole) => whole <= 0 ? 0 : Math.Round((double)part / whole, 6);
}

public sealed record SalesParameters(
    [property: FromRoute(Name = "site"), Description("Site id.")] string Site,
    [property: FromQuery(Name = "from"), Description("Start (inclusive): ISO date or datetime, read in the site's time zone without an offset. Default: 'to' minus 7 days.")] string? From,
    [property: FromQuery(Name = "to"), Description("End (exclusive). Default: the end of today in the site's time zone.")] string? To,
    [property: FromQuery(Name = "model"), Description("Attribution model: last_chat (default), first_chat, linear, time_decay, chat_assisted, during_chat.")] string? Model);

public sealed record GoalsParameters(
    [property: FromRoute(Name = "site"), Description("Site id.")] string Site,
    [property: FromQuery(Name = "from"), Description("Start (inclusive): ISO date or datetime. Default: 'to' minus 7 days.")] string? From,
    [property: FromQuery(Name = "to"), Description("End (exclusive). Default: the end of today in the site's time zone.")] string? To);

public sealed record OrderListParameters(
    [property: FromRoute(Name = "site"), Description("Site id.")] string Site,
    [property: FromQuery(Name = "from"), Description("Start (inclusive): ISO date or datetime. Default: 'to' minus 7 days.")] string? From,
    [property: FromQuery(Name = "to"), Description("End (exclusive). Default: the end of today in the site's time zone.")] string? To,
    [property: FromQuery(Name = "model"), Description("Model of attributedRevenue: last_chat (default), first_chat, linear, time_decay, chat_assisted, during_chat.")] string? Model,
    [property: FromQuery(Name = "chatted"), Description("true: only orders with a chat in their attribution window; false: only those without.")] string? Chatted,
    [property: FromQuery(Name = "limit"), Description("Orders per page: 1-100, default 10.")] string? Limit,
    [property: FromQuery(Name = "offset"), Description("Orders to skip: 0-10000, default 0.")] string? Offset);

public sealed record OrderParameters(
    [property: FromRoute(Name = "site"), Description("Site id.")] string Site,
    [property: FromRoute(Name = "id"), Description("The shop's order id.")] string Id);
