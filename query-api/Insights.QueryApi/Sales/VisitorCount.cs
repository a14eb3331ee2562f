using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.QueryApi.Stats;
using Insights.QueryApi.Storage;

namespace Insights.QueryApi.Sales;

/// <summary>
/// Distinct visitors (anonymous ids with a page view, bots left out) in a range: the denominator of the sales and goals
/// conversion rates. From the quarter-hour rollup (<c>visitor_quarters</c>, about one row per visit) when both ends
/// fall on a quarter hour, which whole days in any time zone do; from the events otherwise. Both count the same
/// 64-bit visitor hash, so the two paths agree.
/// </summary>
public static class VisitorCount
{
    private const string QuartersSql = """
        SELECT uniqExact(visitor)
        FROM visitor_quarters
        WHERE site_id = {site:String} AND bucket >= {from:DateTime('UTC')} AND bucket < {to:DateTime('UTC')}
        """;

    private const string EventsSql = """
        SELECT uniqExact(cityHash64(anonymous_id))
        FROM events
        WHERE site_id = {site:String} AND type = 'pageview' AND bot_reason = '' AND anonymous_id != ''
          AND timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
        """;

    // The range's visitors and each day's in one pass: GROUPING SETS ((), (day)); the range's row has day NULL.
    private const string QuartersWithDaysSql = """
        SELECT toDate(bucket, {tz:String}) AS day, uniqExact(visitor)
        FROM visitor_quarters
        WHERE site_id = {site:String} AND bucket >= {from:DateTime('UTC')} AND bucket < {to:DateTime('UTC')}
        GROUP BY GROUPING SETS ((), (day))
        SETTINGS group_by_use_nulls = 1
        """;

    private const string EventsWithDaysSql = """
        SELECT toDate(timestamp, {tz:String}) AS day, uniqExact(cityHash64(anonymous_id))
        FROM events
        WHERE site_id = {site:String} AND type = 'pageview' AND bot_reason = '' AND anonymous_id != ''
          AND timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
        GROUP BY GROUPING SETS ((), (day))
        SETTINGS group_by_use_nulls = 1
        """;

    private const long Quarter = 15 * 60;

    /// <summary>The range's distinct visitors and each day's (site's zone), in one query: what the goals report shows.</summary>
    public static async Task<(long Range, Dictionary<DateOnly, long> Days)> CountWithDaysAsync(ReportsDatabase database, string site,
        StatsRange range, string queryName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(range);
        var parameters = Parameters(site, range);
        parameters.AddParameter("tz", range.TimeZone.Id);
        var rows = await database.QueryAsync(queryName, Aligned(range) ? QuartersWithDaysSql : EventsWithDaysSql, parameters,
            r => (Day: r.IsDBNull(0) ? (DateOnly?)null : DateOnly.FromDateTime(r.GetDateTime(0)), Visitors: RevenueReports.Long(r, 1)), cancellationToken);
        return (rows.Where(r => r.Day is null).Select(r => r.Visitors).SingleOrDefault(),
            rows.Where(r => r.Day is not null).ToDictionary(r => r.Day!.Value, r => r.Visitors));
    }

    // A quarter hour never straddles a local midnight of a zone whose offset is a whole number of quarter hours (all of them today).
    internal static bool Aligned(StatsRange range) => range.From.ToUnixTimeSeconds() % Quarter == 0 && range.To.ToUnixTimeSeconds() % Quarter == 0
        && range.From.Millisecond == 0 && range.To.Millisecond == 0;

    private static ClickHouseParameterCollection Parameters(string site, StatsRange range)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site);
        parameters.AddParameter("from", range.From.UtcDateTime);
        parameters.AddParameter("to", range.To.UtcDateTime);
        return parameters;
    }

    public static async Task<long> CountAsync(ReportsDatabase database, string site, StatsRange range, string queryName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(range);
        var rows = await database.QueryAsync(queryName, Aligned(range) ? QuartersSql : EventsSql, Parameters(site, range), r => RevenueReports.Long(r, 0),
            cancellationToken);
        return rows[0];
    }
}
