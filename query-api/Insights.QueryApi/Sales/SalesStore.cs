using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Stats;
using Insights.QueryApi.Storage;
using static Insights.QueryApi.Sales.RevenueReports;

namespace Insights.QueryApi.Sales;

/// <summary>
/// The sales report's SQL over the tables attribution writes (<c>orders</c>, <c>attribution_credits</c>, <c>chats</c>)
/// and the visitor rollup (<see cref="VisitorCount"/>). Constant statements, typed parameters.
/// </summary>
/// <remarks>
/// Exact under replays: every attribution table is a ReplacingMergeTree whose rows are rewritten under the same key with a
/// growing version, so every read is <c>FINAL</c> (the tables are not partitioned, so the query API's
/// per-partition FINAL is FINAL). Visitors are <c>uniqExact</c>, which duplicates cannot change.
/// </remarks>
public sealed class SalesStore(ReportsDatabase database)
{
    private const string OrdersSql = """
        SELECT
            countIf(NOT cancelled) AS orders,
            countIf(cancelled) AS cancelled_orders,
            sumIf(net_reporting, net_reporting IS NOT NULL) AS revenue,
            sumIf(amount_reporting - net_reporting, NOT cancelled AND net_reporting IS NOT NULL) AS refunds,
            countIf(NOT cancelled AND net_reporting IS NOT NULL) AS convertible_orders,
            countIf(net_reporting IS NULL) AS unconverted,
            sumIf(net_reporting, chats_in_window > 0 AND net_reporting IS NOT NULL) AS assisted_revenue,
            countIf(NOT cancelled AND chats_in_window > 0) AS assisted_orders,
            uniqExactIf(person_id, NOT cancelled AND chats_in_window > 0) AS chatted_buyers,
            uniqExactIf(person_id, NOT cancelled AND chats_in_window = 0) AS other_buyers
        FROM orders FINAL
        WHERE site_id = {site:String} AND placed_at >= {from:DateTime64(3, 'UTC')} AND placed_at < {to:DateTime64(3, 'UTC')}
        """;

    private const string CreditsSql = """
        SELECT sum(amount_reporting), uniqExactIf(order_id, share > 0)
        FROM attribution_credits FINAL
        WHERE site_id = {site:String} AND model = {model:String}
          AND order_placed_at >= {from:DateTime64(3, 'UTC')} AND order_placed_at < {to:DateTime64(3, 'UTC')}
          AND amount_reporting IS NOT NULL
        """;

    // group: 0 = agent, 1 = channel. Per (group, order) first: under chat_assisted every chat carries the whole order,
    // so an agent with two chats on one order gets it once, not twice; under the other models its parts add up.
    private const string GroupsSql = """
        SELECT key, sum(revenue) AS total, countIf(credited) AS orders, length(groupUniqArrayArray(chats)) AS chat_count
        FROM
        (
            SELECT if({group:UInt8} = 0, agent_id, toString(channel)) AS key, order_id,
                   if({model:String} = 'chat_assisted', max(amount_reporting), sum(amount_reporting)) AS revenue,
                   max(share) > 0 AS credited, groupArrayIf(chat_id, share > 0) AS chats
            FROM attribution_credits FINAL
            WHERE site_id = {site:String} AND model = {model:String}
              AND order_placed_at >= {from:DateTime64(3, 'UTC')} AND order_placed_at < {to:DateTime64(3, 'UTC')}
              AND amount_reporting IS NOT NULL
            GROUP BY key, order_id
        )
        GROUP BY key
        HAVING orders > 0
        ORDER BY total DESC, key
        LIMIT 100
        """;

    private const string DaysSql = """
        SELECT toDate(placed_at, {tz:String}) AS day, countIf(NOT cancelled), sumIf(net_reporting, net_reporting IS NOT NULL)
        FROM orders FINAL
        WHERE site_id = {site:String} AND placed_at >= {from:DateTime64(3, 'UTC')} AND placed_at < {to:DateTime64(3, 'UTC')}
        GROUP BY day
        """;

    // chat_assisted gives every chat the whole order, so its daily figure comes from the orders, not summed credits.
    private const string AttributedDaysSql = """
        SELECT toDate(order_placed_at, {tz:String}) AS day, sum(amount_reporting)
        FROM attribution_credits FINAL
        WHERE site_id = {site:String} AND model = {model:String} AND {model:String} != 'chat_assisted'
          AND order_placed_at >= {from:DateTime64(3, 'UTC')} AND order_placed_at < {to:DateTime64(3, 'UTC')}
          AND amount_reporting IS NOT NULL
        GROUP BY day
        UNION ALL
        SELECT toDate(placed_at, {tz:String}) AS day, sumIf(net_reporting, net_reporting IS NOT NULL)
        FROM orders FINAL
        WHERE site_id = {site:String} AND {model:String} = 'chat_assisted' AND chats_in_window > 0
          AND placed_at >= {from:DateTime64(3, 'UTC')} AND placed_at < {to:DateTime64(3, 'UTC')}
        GROUP BY day
        """;

    private const string ChattersSql = """
        SELECT uniqExact(person_id)
        FROM chats FINAL
        WHERE site_id = {site:String} AND started_at >= {from:DateTime64(3, 'UTC')} AND started_at < {to:DateTime64(3, 'UTC')}
        """;

    public async Task<SalesResponse> GetAsync(SiteOptions site, StatsRange range, string model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(range);
        ClickHouseParameterCollection P() => Parameters(site, range, model);
        var ordersTask = database.QueryAsync("sales.orders", OrdersSql, P(), r => new
        {
            Orders = Long(r, 0), Cancelled = Long(r, 1), Revenue = Money(r, 2), Refunds = Money(r, 3), Convertible = Long(r, 4),
            Unconverted = Long(r, 5), AssistedRevenue = Money(r, 6), AssistedOrders = Long(r, 7), ChattedBuyers = Long(r, 8), OtherBuyers = Long(r, 9),
        }, cancellationToken);
        var creditsTask = database.QueryAsync("sales.credits", CreditsSql, P(), r => (Revenue: Money(r, 0), Orders: Long(r, 1)), cancellationToken);
        var agentsTask = database.QueryAsync("sales.agents", GroupsSql, WithGroup(P(), 0), Group, cancellationToken);
        var channelsTask = database.QueryAsync("sales.channels", GroupsSql, WithGroup(P(), 1), Group, cancellationToken);
        var daysTask = database.QueryAsync("sales.days", DaysSql, P(), r => (Day: DateOnly.FromDateTime(r.GetDateTime(0)), Orders: Long(r, 1), Revenue: Money(r, 2)),
            cancellationToken);
        var attributedDaysTask = database.QueryAsync("sales.attributed_days", AttributedDaysSql, P(),
            r => (Day: DateOnly.FromDateTime(r.GetDateTime(0)), Revenue: Money(r, 1)), cancellationToken);
        var visitorsTask = VisitorCount.CountAsync(database, site.Id, range, "sales.visitors", cancellationToken);
        var chattersTask = database.QueryAsync("sales.chatters", ChattersSql, P(), r => Long(r, 0), cancellationToken);
        await Task.WhenAll(ordersTask, creditsTask, agentsTask, channelsTask, daysTask, attributedDaysTask, visitorsTask, chattersTask);

        var orders = (await ordersTask)[0];
        var credits = (await creditsTask)[0];
        var assisted = model == AttributionModels.ChatAssisted;
        var attributedRevenue = assisted ? orders.AssistedRevenue : credits.Revenue;
        var attributedOrders = assisted ? orders.AssistedOrders : credits.Orders;
        var visitors = await visitorsTask;
        var chatters = (await chattersTask)[0];
        var notChatted = Math.Max(0, visitors - chatters);

        var days = (await daysTask).ToDictionary(d => d.Day);
        var attributedDays = (await attributedDaysTask).GroupBy(d => d.Day).ToDictionary(g => g.Key, g => g.Sum(d => d.Revenue));
        var series = range.Days().Select(day =>
        {
            var d = days.GetValueOrDefault(day);
            return new SalesDay(day, d.Orders, d.Revenue, attributedDays.GetValueOrDefault(day));
        }).ToList();

        return new SalesResponse(site.Id, site.TimeZone, range.From, range.To, model, site.ReportingCurrency,
            orders.Orders, orders.Cancelled, orders.Revenue, orders.Refunds,
            orders.Convertible == 0 ? 0 : Math.Round(orders.Revenue / orders.Convertible, 4, MidpointRounding.AwayFromZero),
            attributedRevenue, attributedOrders, orders.Revenue == 0 ? 0 : Math.Round((double)(attributedRevenue / orders.Revenue), 6),
            orders.Unconverted,
            new SalesConversion(visitors, chatters, orders.ChattedBuyers, Rate(orders.ChattedBuyers, chatters),
                notChatted, orders.OtherBuyers, Rate(orders.OtherBuyers, notChatted)),
            await agentsTask, await channelsTask, series);
    }

    private static AttributedGroup Group(System.Data.Common.DbDataReader r) => new(r.GetString(0), Money(r, 1), Long(r, 2), Long(r, 3));

    private static ClickHouseParameterCollection WithGroup(ClickHouseParameterCollection parameters, byte group)
    {
        parameters.AddParameter("group", group);
        return parameters;
    }

    private static ClickHouseParameterCollection Parameters(SiteOptions site, StatsRange range, string model)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site.Id);
        parameters.AddParameter("from", range.From.UtcDateTime);
        parameters.AddParameter("to", range.To.UtcDateTime);
        parameters.AddParameter("tz", site.TimeZone);
        parameters.AddParameter("model", model);
        return parameters;
    }
}
