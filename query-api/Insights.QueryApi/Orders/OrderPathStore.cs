using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Storage;
using static Insights.QueryApi.Sales.RevenueReports;

namespace Insights.QueryApi.Orders;

/// <summary>An order's path: the order, its person's ids, their page views in the window, the chats and their credits.</summary>
public sealed class OrderPathStore(ReportsDatabase database)
{
    private const int MaxPages = 500;
    private static readonly TimeSpan SessionGap = TimeSpan.FromMinutes(30);

    private const string OrderSql = """
        SELECT person_id, placed_at, currency, amount, refunded, cancelled, net, reporting_currency, amount_reporting, net_reporting,
               coupon, source, anonymous_id
        FROM orders FINAL
        WHERE site_id = {site:String} AND order_id = {id:String}
        """;

    private const string EventsSql = """
        SELECT event_id, any(type), any(timestamp) AS at, any(amount), any(currency)
        FROM order_events
        WHERE site_id = {site:String} AND order_id = {id:String}
        GROUP BY event_id
        ORDER BY at, event_id
        """;

    private const string CreditsSql = """
        SELECT chat_id, model, share, amount, amount_reporting, confidence
        FROM attribution_credits FINAL
        WHERE site_id = {site:String} AND order_id = {id:String}
        """;

    private const string ChatsSql = """
        SELECT chat_id, started_at, ended_at, agent_id, channel, messages, rating
        FROM chats FINAL
        WHERE site_id = {site:String}
          AND chat_id IN (SELECT chat_id FROM attribution_credits WHERE site_id = {site:String} AND order_id = {id:String})
        ORDER BY started_at, chat_id
        """;

    private const string IdsSql = """
        SELECT id
        FROM identities FINAL
        WHERE site_id = {site:String} AND person_id = {person:String} AND match(id, '^[aue]:')
        ORDER BY id
        LIMIT 200
        """;

    private const string PagesSql = """
        SELECT event_id, any(timestamp) AS at, any(session_id), any(path), any(title), any(url), any(referrer_host), any(utm_source)
        FROM events
        WHERE site_id = {site:String} AND type = 'pageview' AND anonymous_id IN {visitors:Array(String)}
          AND timestamp >= {since:DateTime64(3, 'UTC')} AND timestamp <= {until:DateTime64(3, 'UTC')}
        GROUP BY event_id
        ORDER BY at, event_id
        LIMIT {limit:UInt32}
        """;

    public async Task<OrderPathResponse?> GetAsync(SiteOptions site, string orderId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(site);
        var orders = await database.QueryAsync("order.order", OrderSql, Parameters(site, orderId), r => new
        {
            Person = r.GetString(0), PlacedAt = r.GetDateTime(1), Currency = r.GetString(2), Amount = Money(r, 3), Refunded = Money(r, 4),
            Cancelled = Convert.ToBoolean(r.GetValue(5), System.Globalization.CultureInfo.InvariantCulture), Net = Money(r, 6),
            ReportingCurrency = r.GetString(7), AmountReporting = MoneyOrNull(r, 8), NetReporting = MoneyOrNull(r, 9), Coupon = r.GetString(10),
            Source = r.GetString(11), Anonymous = r.GetString(12),
        }, cancellationToken);
        if (orders.Count == 0)
        {
            return null;
        }

        var order = orders[0];
        var eventsTask = database.QueryAsync("order.events", EventsSql, Parameters(site, orderId),
            r => new OrderEvent(r.GetString(0), r.GetString(1), Utc(r.GetDateTime(2)), Money(r, 3), r.GetString(4)), cancellationToken);
        var creditsTask = database.QueryAsync("order.credits", CreditsSql, Parameters(site, orderId),
            r => (Chat: r.GetString(0), Credit: new ModelCredit(r.GetString(1), r.GetDouble(2), Money(r, 3), MoneyOrNull(r, 4)), Confidence: r.GetString(5)),
            cancellationToken);
        var chatsTask = database.QueryAsync("order.chats", ChatsSql, Parameters(site, orderId),
            r => (Id: r.GetString(0), Started: Utc(r.GetDateTime(1)), Ended: r.IsDBNull(2) ? (DateTimeOffset?)null : Utc(r.GetDateTime(2)),
                Agent: r.GetString(3), Channel: r.GetString(4), Messages: Long(r, 5), Rating: r.IsDBNull(6) ? (int?)null : Convert.ToInt32(r.GetValue(6), System.Globalization.CultureInfo.InvariantCulture)),
            cancellationToken);
        var idsParameters = Parameters(site, orderId);
        idsParameters.AddParameter("person", order.Person);
        var idsTask = database.QueryAsync("order.ids", IdsSql, idsParameters, r => r.GetString(0), cancellationToken);
        await Task.WhenAll(eventsTask, creditsTask, chatsTask, idsTask);

        var ids = await idsTask;
        var visitors = ids.Where(i => i.StartsWith("a:", StringComparison.Ordinal)).Select(i => i[2..]).ToList();
        if (visitors.Count == 0 && order.Anonymous.Length > 0)
        {
            visitors.Add(order.Anonymous);
        }

        var sessions = visitors.Count == 0 ? [] : await VisitsAsync(site, visitors, order.PlacedAt, cancellationToken);
        var credits = (await creditsTask).ToLookup(c => c.Chat, StringComparer.Ordinal);
        var chats = (await chatsTask).Select(c => new OrderChat(c.Id, c.Started, c.Ended, c.Agent, c.Channel, c.Messages, c.Rating,
            credits[c.Id].Select(x => x.Confidence).FirstOrDefault() ?? "high",
            [.. credits[c.Id].Select(x => x.Credit).OrderBy(x => x.Model, StringComparer.Ordinal)])).ToList();

        return new OrderPathResponse(site.Id, orderId, order.Person, Utc(order.PlacedAt), order.Currency, order.Amount, order.Refunded, order.Cancelled,
            order.Net, order.ReportingCurrency, order.AmountReporting, order.NetReporting, order.Coupon, order.Source, site.AttributionWindowDays,
            [.. ids.Select(i => new LinkedId(i[0] switch { 'a' => "anonymous", 'u' => "user", _ => "email" }, i[2..]))],
            await eventsTask, sessions, chats);
    }

    /// <summary>Page views in the window before the order, grouped into visits by the processors' session id, or by a
    /// 30-minute gap where a page view has none.</summary>
    private async Task<List<Visit>> VisitsAsync(SiteOptions site, List<string> visitors, DateTime placedAt, CancellationToken cancellationToken)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site.Id);
        parameters.AddParameter("visitors", visitors.ToArray());
        parameters.AddParameter("since", placedAt - TimeSpan.FromDays(site.AttributionWindowDays));
        parameters.AddParameter("until", placedAt);
        parameters.AddParameter("limit", (uint)MaxPages);
        var pages = await database.QueryAsync("order.pages", PagesSql, parameters, r => (At: Utc(r.GetDateTime(1)), Session: r.GetString(2),
            Page: new Page(Utc(r.GetDateTime(1)), r.GetString(3), r.GetString(4), r.GetString(5)), Referrer: r.GetString(6), Utm: r.GetString(7)),
            cancellationToken);

        var visits = new List<Visit>();
        var current = new List<(DateTimeOffset At, string Session, Page Page, string Referrer, string Utm)>();
        foreach (var page in pages)
        {
            if (current.Count > 0 && (page.Session.Length > 0 ? page.Session != current[^1].Session : page.At - current[^1].At > SessionGap))
            {
                visits.Add(ToVisit(current));
                current = [];
            }

            current.Add(page);
        }

        if (current.Count > 0)
        {
            visits.Add(ToVisit(current));
        }

        return visits;

        static Visit ToVisit(List<(DateTimeOffset At, string Session, Page Page, string Referrer, string Utm)> pages) =>
            new(pages[0].Session, pages[0].At, pages[^1].At, pages[0].Referrer, pages[0].Utm, [.. pages.Select(p => p.Page)]);
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static ClickHouseParameterCollection Parameters(SiteOptions site, string orderId)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site.Id);
        parameters.AddParameter("id", orderId);
        return parameters;
    }
}
