using System.Data.Common;
using System.Globalization;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.QueryApi.Companies;
using Insights.QueryApi.Sales;
using Insights.QueryApi.Storage;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Partners;

/// <summary>
/// The roll-ups' SQL: one statement per report covering every client site at once (<c>site_id IN {sites}</c>), never
/// a query per site. Constant statements, typed parameters; <c>FINAL</c> as in the per-site reports, so a replayed
/// visit or order counts once and the roll-up equals the site reports summed.
/// </summary>
public sealed class PartnerRollupStore(ReportsDatabase database, IOptions<LeadScoreOptions> leadOptions)
{
    // Per (company, site) first, scored exactly as a site's company list scores it, then per company.
    private const string CompaniesSqlHead = """
        SELECT
            company_id,
            argMax(name, last_seen) AS company_name,
            argMax(domain, last_seen) AS company_domain,
            max(score) AS top_score,
            sum(visits) AS total_visits,
            sum(visitors) AS total_visitors,
            sum(views) AS total_views,
            max(last_seen) AS latest,
            groupArray(site_id) AS site_ids,
            groupArray(score) AS site_scores,
            groupArray(visits) AS site_visits,
            groupArray(visitors) AS site_visitors,
            groupArray(views) AS site_views,
            groupArray(last_seen) AS site_last_seen,
            count() OVER () AS total
        FROM
        (
            SELECT
                company_id,
                toString(site_id) AS site_id,
                argMax(company_name, ended_at) AS name,
                argMax(company_domain, ended_at) AS domain,
                count() AS visits,
                uniqExact(anonymous_id) AS visitors,
                sum(page_views) AS views,
                toUnixTimestamp64Milli(max(ended_at)) AS last_seen,
        """ + LeadScore.Points + ",\n" + LeadScore.Score + "\n" + """
            FROM sessions FINAL
            WHERE site_id IN {sites:Array(String)}
              AND company_id != ''
        """;

    private const string CompaniesSqlTail = """

            GROUP BY company_id, site_id
        )
        GROUP BY company_id
        ORDER BY top_score DESC, latest DESC, company_id
        LIMIT {limit:UInt32}
        """;

    // Over a range: visits that began in it, as the site reports count them.
    private const string CompaniesInRangeSql = CompaniesSqlHead + """
              AND started_at >= {from:DateTime64(3, 'UTC')}
              AND started_at < {to:DateTime64(3, 'UTC')}
        """ + CompaniesSqlTail;

    // Now: visits still going on in the window, however long ago they began.
    private const string CompaniesNowSql = CompaniesSqlHead + """
              AND ended_at >= {from:DateTime64(3, 'UTC')}
              AND started_at < {to:DateTime64(3, 'UTC')}
        """ + CompaniesSqlTail;

    // part 0: orders (the sales report's definitions), part 1: the model's credits, both per site and reporting currency.
    private const string RevenueSql = """
        SELECT 0 AS part, toString(site_id) AS site, toString(reporting_currency) AS currency,
               countIf(NOT cancelled) AS orders,
               toDecimal128(ifNull(sumIf(net_reporting, net_reporting IS NOT NULL), 0), 4) AS revenue,
               toDecimal128(ifNull(sumIf(net_reporting, chats_in_window > 0 AND net_reporting IS NOT NULL), 0), 4) AS attributed,
               countIf(NOT cancelled AND chats_in_window > 0) AS attributed_orders,
               countIf(net_reporting IS NULL) AS unconverted
        FROM orders FINAL
        WHERE site_id IN {sites:Array(String)} AND placed_at >= {from:DateTime64(3, 'UTC')} AND placed_at < {to:DateTime64(3, 'UTC')}
        GROUP BY site, currency
        UNION ALL
        SELECT 1 AS part, toString(site_id) AS site, toString(reporting_currency) AS currency,
               0 AS orders,
               toDecimal128(0, 4) AS revenue,
               toDecimal128(ifNull(sum(amount_reporting), 0), 4) AS attributed,
               uniqExactIf(order_id, share > 0) AS attributed_orders,
               0 AS unconverted
        FROM attribution_credits FINAL
        WHERE site_id IN {sites:Array(String)} AND model = {model:String}
          AND order_placed_at >= {from:DateTime64(3, 'UTC')} AND order_placed_at < {to:DateTime64(3, 'UTC')}
          AND amount_reporting IS NOT NULL
        GROUP BY site, currency
        """;

    private readonly LeadScoreOptions leads = leadOptions.Value;

    public async Task<PartnerCompaniesResponse> CompaniesAsync(PartnerScope scope, IReadOnlyList<ClientSite> sites, DateTimeOffset from,
        DateTimeOffset to, bool live, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(sites);
        var parameters = Parameters(sites, from, to);
        parameters.AddParameter("limit", (uint)limit);
        parameters.AddScoreParameters(leads, to < now ? to : now);
        var bySite = sites.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var rows = sites.Count == 0 ? [] : await database.QueryAsync(live ? "partners.companies_now" : "partners.companies",
            live ? CompaniesNowSql : CompaniesInRangeSql, parameters, r => ReadCompany(r, bySite), cancellationToken);
        return new PartnerCompaniesResponse(scope.Partner, from, to, live, sites, rows.Count > 0 ? rows[0].Total : 0,
            [.. rows.Select(r => r.Company)], DataAttribution.DbIp);
    }

    public async Task<PartnerRevenueResponse> RevenueAsync(PartnerScope scope, IReadOnlyList<ClientSite> sites, DateTimeOffset from,
        DateTimeOffset to, string model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(sites);
        var parameters = Parameters(sites, from, to);
        parameters.AddParameter("model", model);
        var rows = sites.Count == 0 ? [] : await database.QueryAsync("partners.revenue", RevenueSql, parameters, r => new RevenueRow(
            Convert.ToByte(r.GetValue(0), CultureInfo.InvariantCulture), r.GetString(1), r.GetString(2), RevenueReports.Long(r, 3),
            RevenueReports.Money(r, 4), RevenueReports.Money(r, 5), RevenueReports.Long(r, 6), RevenueReports.Long(r, 7)), cancellationToken);

        // chat_assisted gives every chat the whole order: its figure comes from the orders, as in the sales report.
        var assisted = model == AttributionModels.ChatAssisted;
        var perSite = rows
            .GroupBy(r => (r.Site, r.Currency))
            .Select(g =>
            {
                var orders = g.Where(r => r.Part == 0).ToList();
                var credits = g.Where(r => r.Part == 1).ToList();
                return (g.Key.Site, Figures: new CurrencyRevenue(g.Key.Currency, orders.Sum(r => r.Orders), orders.Sum(r => r.Revenue),
                    assisted ? orders.Sum(r => r.Attributed) : credits.Sum(r => r.Attributed),
                    assisted ? orders.Sum(r => r.AttributedOrders) : credits.Sum(r => r.AttributedOrders),
                    orders.Sum(r => r.Unconverted)));
            })
            .ToLookup(s => s.Site, s => s.Figures, StringComparer.Ordinal);

        var clients = sites
            .GroupBy(s => (s.Organisation, s.OrganisationName))
            .Select(org =>
            {
                var siteRevenue = org.Select(s => new SiteRevenue(s.Id, s.Name, [.. perSite[s.Id].OrderBy(c => c.Currency, StringComparer.Ordinal)])).ToList();
                return new ClientRevenue(org.Key.Organisation, org.Key.OrganisationName, ByCurrency(siteRevenue.SelectMany(s => s.Revenue)), siteRevenue);
            })
            .OrderBy(c => c.Name, StringComparer.CurrentCultureIgnoreCase)
            .ThenBy(c => c.Organisation)
            .ToList();
        return new PartnerRevenueResponse(scope.Partner, from, to, model, clients, ByCurrency(clients.SelectMany(c => c.Revenue)));
    }

    /// <summary>Adds figures of the same currency; different currencies stay apart.</summary>
    private static List<CurrencyRevenue> ByCurrency(IEnumerable<CurrencyRevenue> figures) =>
    [
        .. figures.GroupBy(f => f.Currency, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new CurrencyRevenue(g.Key, g.Sum(f => f.Orders), g.Sum(f => f.Revenue), g.Sum(f => f.ChatAttributedRevenue),
                g.Sum(f => f.ChatAttributedOrders), g.Sum(f => f.UnconvertedOrders))),
    ];

    private static ClickHouseParameterCollection Parameters(IReadOnlyList<ClientSite> sites, DateTimeOffset from, DateTimeOffset to)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("sites", sites.Select(s => s.Id).ToArray());
        parameters.AddParameter("from", from.UtcDateTime);
        parameters.AddParameter("to", to.UtcDateTime);
        return parameters;
    }

    private static (PartnerCompany Company, long Total) ReadCompany(DbDataReader r, Dictionary<string, ClientSite> sites)
    {
        var ids = Strings(r.GetValue(8));
        var scores = Numbers(r.GetValue(9));
        var visits = Numbers(r.GetValue(10));
        var visitors = Numbers(r.GetValue(11));
        var views = Numbers(r.GetValue(12));
        var lastSeen = Numbers(r.GetValue(13));
        var atSites = new List<CompanyAtSite>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            var site = sites[ids[i]];
            atSites.Add(new CompanyAtSite(site.Id, site.Name, site.Organisation, site.OrganisationName, (int)scores[i], visits[i], visitors[i],
                views[i], DateTimeOffset.FromUnixTimeMilliseconds(lastSeen[i])));
        }

        atSites.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.Site, b.Site));
        var domain = r.GetString(2);
        return (new PartnerCompany(r.GetString(0), r.GetString(1), domain.Length > 0 ? domain : null, Convert.ToInt32(r.GetValue(3), CultureInfo.InvariantCulture),
            RevenueReports.Long(r, 4), RevenueReports.Long(r, 5), RevenueReports.Long(r, 6),
            DateTimeOffset.FromUnixTimeMilliseconds(RevenueReports.Long(r, 7)), atSites), RevenueReports.Long(r, 14));
    }

    private static string[] Strings(object value) => [.. ((System.Collections.IEnumerable)value).Cast<object>().Select(v => (string)v)];

    private static long[] Numbers(object value) =>
        [.. ((System.Collections.IEnumerable)value).Cast<object>().Select(v => Convert.ToInt64(v, CultureInfo.InvariantCulture))];

    private sealed record RevenueRow(byte Part, string Site, string Currency, long Orders, decimal Revenue, decimal Attributed, long AttributedOrders,
        long Unconverted);
}
