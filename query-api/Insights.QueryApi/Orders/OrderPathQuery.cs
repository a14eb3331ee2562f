using System.ComponentModel;
using Insights.Contracts;
using Insights.QueryApi.Pipeline;
using Mediator;

namespace Insights.QueryApi.Orders;

/// <summary>One order and the path that led to it.</summary>
public sealed record OrderPathQuery(string Site, PresentedKey Key, string Id)
    : IQuery<QueryOutcome<OrderPathResponse>>, ISiteQuery<OrderPathQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public OrderPathQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

public sealed class OrderPathQueryHandler(OrderPathStore store) : IQueryHandler<OrderPathQuery, QueryOutcome<OrderPathResponse>>
{
    // As the processors: an id longer than this, or with control characters, was never stored.
    private const int MaxIdLength = 256;

    public async ValueTask<QueryOutcome<OrderPathResponse>> Handle(OrderPathQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite
            ?? throw new InvalidOperationException("OrderPathQuery reached its handler unauthorized; TenantAuthorizationBehavior must run first.");

        if (query.Id.Length is 0 or > MaxIdLength || query.Id.Any(char.IsControl))
        {
            return QueryProblem.Invalid(new Dictionary<string, string[]>
            {
                ["id"] = [$"'id' must be an order id of 1-{MaxIdLength} characters without control characters."],
            });
        }

        return await store.GetAsync(site, query.Id, cancellationToken) is { } path
            ? path
            : new QueryProblem(StatusCodes.Status404NotFound, "order_not_found", "Order not found",
                "No order with this id has been attributed for this site (yet: orders appear seconds after the shop sends them).");
    }
}

public sealed record OrderPathResponse(
    string Site,
    string OrderId,
    [property: Description("The person (stitched ids) who placed it: their smallest id.")] string PersonId,
    DateTimeOffset PlacedAt,
    [property: Description("The order's own currency (ISO 4217) of Amount, Refunded and Net.")] string Currency,
    decimal Amount,
    decimal Refunded,
    bool Cancelled,
    [property: Description("Amount minus refunds; zero once cancelled.")] decimal Net,
    string ReportingCurrency,
    [property: Description("Amount in the reporting currency; null when the site has no rate for the order's currency.")] decimal? AmountReporting,
    decimal? NetReporting,
    string Coupon,
    string Source,
    int AttributionWindowDays,
    [property: Description("The ids joined into the person: anonymous visitor ids, user ids, e-mail hashes.")] IReadOnlyList<LinkedId> Ids,
    [property: Description("The order's events: placed, refunded, cancelled.")] IReadOnlyList<OrderEvent> Events,
    [property: Description("The person's visits in the attribution window before the order, oldest first (at most 500 pages).")] IReadOnlyList<Visit> Sessions,
    [property: Description("Chats in the attribution window, oldest first, with each model's credit.")] IReadOnlyList<OrderChat> Chats);

public sealed record LinkedId([property: Description("anonymous, user or email.")] string Kind, string Id);

public sealed record OrderEvent(string EventId, string Type, DateTimeOffset Timestamp, decimal Amount, string Currency);

public sealed record Visit(string SessionId, DateTimeOffset Start, DateTimeOffset End, string ReferrerHost, string UtmSource, IReadOnlyList<Page> Pages);

public sealed record Page(DateTimeOffset Timestamp, string Path, string Title, string Url);

public sealed record OrderChat(
    string ChatId, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string AgentId, string Channel, long Messages, int? Rating,
    [property: Description("high, or low when the chat reaches the order only through a same-IP-and-browser link.")] string Confidence,
    [property: Description("Credit under every model.")] IReadOnlyList<ModelCredit> Credits);

public sealed record ModelCredit(string Model, double Share, decimal Amount, decimal? AmountReporting);
