using System.ComponentModel;

namespace Insights.QueryApi.Sales;

/// <summary>Sales of one site over a range; money in the site's reporting currency, exact to 0.0001.</summary>
public sealed record SalesResponse(
    [property: Description("The site id.")] string Site,
    [property: Description("The site's IANA time zone; days are in it.")] string TimeZone,
    [property: Description("Start of the range (inclusive).")] DateTimeOffset From,
    [property: Description("End of the range (exclusive).")] DateTimeOffset To,
    [property: Description("The attribution model of the attributed figures.")] string Model,
    [property: Description("The reporting currency (ISO 4217) of every amount.")] string Currency,
    [property: Description("Orders placed in the range and not cancelled.")] long Orders,
    [property: Description("Orders placed in the range and cancelled since (not in revenue).")] long CancelledOrders,
    [property: Description("Net revenue: order totals minus refunds, cancelled orders at zero.")] decimal Revenue,
    [property: Description("Refunds of the range's orders.")] decimal Refunds,
    [property: Description("Revenue per order (convertible orders only).")] decimal AverageOrderValue,
    [property: Description("Revenue credited to chats under the model; for chat_assisted, the revenue of orders with a chat in their window.")] decimal ChatAttributedRevenue,
    [property: Description("Orders credited to at least one chat under the model.")] long ChatAttributedOrders,
    [property: Description("Chat-attributed revenue over revenue.")] double ChatAttributedShare,
    [property: Description("Orders in a currency the site has no rate for: counted in Orders, left out of every amount.")] long UnconvertedOrders,
    [property: Description("Visitors who chatted against those who did not, and how many of each bought.")] SalesConversion Conversion,
    [property: Description("Attributed revenue by the agent of the credited chat (chat_assisted: every assisting agent gets the whole order).")] IReadOnlyList<AttributedGroup> ByAgent,
    [property: Description("Attributed revenue by the channel of the credited chat.")] IReadOnlyList<AttributedGroup> ByChannel,
    [property: Description("Every day of the range, empty days as zeros.")] IReadOnlyList<SalesDay> ByDay);

/// <summary>
/// Visitors are distinct visitor ids with a page view in the range; chatters are distinct persons (stitched ids) with a
/// chat started in the range; buyers are persons with an order in the range, split by whether a chat fell in its
/// attribution window.
/// </summary>
public sealed record SalesConversion(
    long Visitors,
    long ChattedVisitors,
    long ChattedBuyers,
    [property: Description("ChattedBuyers / ChattedVisitors.")] double ChattedConversionRate,
    long NotChattedVisitors,
    long NotChattedBuyers,
    [property: Description("NotChattedBuyers / NotChattedVisitors.")] double NotChattedConversionRate);

public sealed record AttributedGroup(string Key, decimal Revenue, long Orders, long Chats);

public sealed record SalesDay(DateOnly Date, long Orders, decimal Revenue, decimal ChatAttributedRevenue);
