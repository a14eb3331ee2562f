using System.ComponentModel;
using Insights.Contracts;
using Insights.QueryApi.Companies;
using Insights.QueryApi.Pipeline;
using Insights.QueryApi.Sales;
using Insights.QueryApi.Stats;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Orders;

/// <summary>The orders placed in a range, most recent first, each with its chats and every model's credit.</summary>
public sealed record OrderListQuery(string Site, PresentedKey Key, string? From, string? To, string? Model, string? Chatted, string? Limit, string? Offset)
    : IQuery<QueryOutcome<OrderListResponse>>, ISiteQuery<OrderListQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public OrderListQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

public sealed class OrderListQueryHandler(OrderListStore store, IOptions<QueryApiOptions> options, TimeProvider time)
    : IQueryHandler<OrderListQuery, QueryOutcome<OrderListResponse>>
{
    public async ValueTask<QueryOutcome<OrderListResponse>> Handle(OrderListQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite
            ?? throw new InvalidOperationException("OrderListQuery reached its handler unauthorized; TenantAuthorizationBehavior must run first.");

        var zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        StatsRange.TryCreate(query.From, query.To, null, query.Limit, zone, time.GetUtcNow(), options.Value, out var range, out var errors);
        var model = AttributionModels.Parse(query.Model, errors);
        var offset = CompanyParameters.Integer("offset", query.Offset, 0, CompanyParameters.MaxOffset, 0, errors);
        bool? chatted = query.Chatted?.ToLowerInvariant() switch
        {
            null or "" => null,
            "true" => true,
            "false" => false,
            _ => Invalid(errors),
        };
        if (errors.Count > 0)
        {
            return QueryProblem.Invalid(errors);
        }

        return await store.ListAsync(site, range, model, chatted, offset, cancellationToken);

        static bool? Invalid(Dictionary<string, string[]> errors)
        {
            errors["chatted"] = ["'chatted' must be 'true' or 'false'."];
            return null;
        }
    }
}

/// <summary>A page of a site's orders.</summary>
public sealed record OrderListResponse(
    [property: Description("The site id.")] string Site,
    [property: Description("The site's IANA time zone.")] string TimeZone,
    [property: Description("Start of the range (inclusive).")] DateTimeOffset From,
    [property: Description("End of the range (exclusive).")] DateTimeOffset To,
    [property: Description("The attribution model of each order's attributedRevenue.")] string Model,
    [property: Description("The reporting currency (ISO 4217) of every *Reporting amount and every credit.")] string ReportingCurrency,
    [property: Description("Orders placed in the range matching the filter, cancelled ones included, before limit and offset.")] long Total,
    [property: Description("This page of orders, most recently placed first.")] IReadOnlyList<OrderListItem> Orders);

public sealed record OrderListItem(
    [property: Description("The shop's order id; use it with /orders/{id} for the whole path (visits, pages, chats).")] string OrderId,
    [property: Description("When it was placed, in the site's time zone.")] DateTimeOffset PlacedAt,
    [property: Description("The person (stitched ids) who placed it.")] string PersonId,
    [property: Description("The order's own currency of Amount and Net.")] string Currency,
    [property: Description("The order's total as placed, in its own currency.")] decimal Amount,
    [property: Description("Amount minus refunds; zero once cancelled.")] decimal Net,
    [property: Description("True once the order was cancelled (it then counts in no revenue).")] bool Cancelled,
    [property: Description("Net in the reporting currency; null when the site has no rate for the order's currency.")] decimal? NetReporting,
    [property: Description("Chats of the person in the attribution window before the order.")] long ChatsInWindow,
    [property: Description("Where the order came from (the webhook or API that sent it).")] string Source,
    [property: Description("Revenue credited to chats under the requested model, in the reporting currency.")] decimal AttributedRevenue,
    [property: Description("Every model's credit, in the order of the model list.")] IReadOnlyList<OrderModelCredit> Credits);

public sealed record OrderModelCredit(
    [property: Description("last_chat, first_chat, linear, time_decay, chat_assisted or during_chat.")] string Model,
    [property: Description("Revenue credited to chats under the model, in the reporting currency (chat_assisted: the whole order once, when any chat assisted).")] decimal AmountReporting,
    [property: Description("Chats the model gives a share of the order.")] long Chats);
