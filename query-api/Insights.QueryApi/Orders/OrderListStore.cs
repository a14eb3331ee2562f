using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Sales;
using Insights.QueryApi.Stats;
using Insights.QueryApi.Storage;
using static Insights.QueryApi.Sales.RevenueReports;

namespace Insights.QueryApi.Orders;

/// <summary>The orders list's SQL: a page of <c>orders</c>, then the credits of that page's orders. Both <c>FINAL</c>
/// (every row is rewritten with a growing version as refunds and chats arrive).</summary>
public sealed class OrderListStore(ReportsDatabase database)
{
    private const string OrdersSql = """
        SELECT order_id, toUnixTimestamp64Milli(placed_at), person_id, currency, amount, net, cancelled, net_reporting, chats_in_window, source,
               count() OVER () AS total
        FROM orders FINAL
        WHERE site_id = {site:String} AND placed_at >= {from:DateTime64(3, 'UTC')} AND placed_at < {to:DateTime64(3, 'UTC')}
          AND ({chatted:Int8} = -1 OR (chats_in_window > 0) = ({chatted:Int8} = 1))
        ORDER BY placed_at DESC, order_id
        LIMIT {limit:UInt32} OFFSET {offset:UInt32}
        """;

    // Under chat_assisted every assisting chat carries the whole order: the order counts once (as the sales report).
    private const string CreditsSql = """
        SELECT order_id, model, if(model = 'chat_assisted', max(amount_reporting), sum(amount_reporting)), countIf(share > 0)
        FROM attribution_credits FINAL
        WHERE site_id = {site:String} AND order_id IN {ids:Array(String)} AND amount_reporting IS NOT NULL
        GROUP BY order_id, model
        """;

    public async Task<OrderListResponse> ListAsync(SiteOptions site, StatsRange range, string model, bool? chatted, int offset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(range);
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site.Id);
        parameters.AddParameter("from", range.From.UtcDateTime);
        parameters.AddParameter("to", range.To.UtcDateTime);
        parameters.AddParameter("chatted", (sbyte)(chatted switch { null => -1, true => 1, false => 0 }));
        parameters.AddParameter("limit", (uint)range.Limit);
        parameters.AddParameter("offset", (uint)offset);
        var orders = await database.QueryAsync("orders.list", OrdersSql, parameters, r => new
        {
            Id = r.GetString(0), PlacedAt = Long(r, 1), Person = r.GetString(2), Currency = r.GetString(3), Amount = Money(r, 4), Net = Money(r, 5),
            Cancelled = Convert.ToBoolean(r.GetValue(6), System.Globalization.CultureInfo.InvariantCulture), NetReporting = MoneyOrNull(r, 7),
            Chats = Long(r, 8), Source = r.GetString(9), Total = Long(r, 10),
        }, cancellationToken);

        var credits = new Dictionary<(string Order, string Model), (decimal Amount, long Chats)>();
        if (orders.Count > 0)
        {
            var creditParameters = new ClickHouseParameterCollection();
            creditParameters.AddParameter("site", site.Id);
            creditParameters.AddParameter("ids", orders.Select(o => o.Id).ToArray());
            foreach (var row in await database.QueryAsync("orders.credits", CreditsSql, creditParameters,
                         r => (Order: r.GetString(0), Model: r.GetString(1), Amount: Money(r, 2), Chats: Long(r, 3)), cancellationToken))
            {
                credits[(row.Order, row.Model)] = (row.Amount, row.Chats);
            }
        }

        var items = orders.Select(o =>
        {
            // chat_assisted is the order's net (after refunds, zero once cancelled) when a chat assisted, as in the sales report.
            var byModel = AttributionModels.All.Select(m =>
            {
                var c = credits.GetValueOrDefault((o.Id, m));
                var amount = m == AttributionModels.ChatAssisted ? (o.Chats > 0 ? o.NetReporting ?? 0 : 0) : c.Amount;
                return new OrderModelCredit(m, amount, c.Chats);
            }).ToList();
            return new OrderListItem(o.Id, TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(o.PlacedAt), range.TimeZone), o.Person,
                o.Currency, o.Amount, o.Net, o.Cancelled, o.NetReporting, o.Chats, o.Source,
                byModel.Single(c => c.Model == model).AmountReporting, byModel);
        }).ToList();
        return new OrderListResponse(site.Id, site.TimeZone, range.From, range.To, model, site.ReportingCurrency,
            orders.Count > 0 ? orders[0].Total : 0, items);
    }
}
