using System.Data.Common;
using System.Globalization;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Storage;

namespace Insights.QueryApi.Stats;

/// <summary>
/// The stats report's SQL. Every statement is a constant; the site, range, time zone and limit travel as typed
/// ClickHouse parameters (<c>{name:Type}</c>), bound by the server, never spliced into the text.
/// </summary>
/// <remarks>
/// <b>Exactly-once counts.</b> <c>events</c> is a ReplacingMergeTree: a batch the processors replay after a crash
/// (inserted, offsets not yet stored) lands again with the same <c>event_id</c>, and both copies live side by side
/// until a background merge collapses them, which may take minutes or never happen for an old part. Every query
/// therefore reads <c>FROM events FINAL</c>, which collapses rows with an equal sorting key
/// (<c>site_id, toDate(timestamp), type, event_id</c>) at read time, so a replayed event counts once whether or not
/// it was merged. On a cluster the Distributed table shards by <c>(site_id, anonymous_id)</c>, so both copies are on
/// the same shard and FINAL there sees them together. Visitors are <c>uniqExact</c>, never the approximate <c>uniq</c>.
/// </remarks>
public sealed class StatsStore(ReportsDatabase database)
{
    // bot_reason: the processors keep bot and datacenter events, flagged (migration 0003); they are not visitors.
    private const string PageViewsInRange = """
        FROM events FINAL
        WHERE site_id = {site:String}
          AND type = {type:String}
          AND timestamp >= {from:DateTime64(3, 'UTC')}
          AND timestamp < {to:DateTime64(3, 'UTC')}
          AND bot_reason = ''
        """;

    private const string TotalsSql = "SELECT count() AS views, uniqExact(anonymous_id) AS visitors\n" + PageViewsInRange;

    private const string TopPagesSql = "SELECT path, count() AS views, uniqExact(anonymous_id) AS visitors\n" + PageViewsInRange + """

        GROUP BY path
        ORDER BY views DESC, path
        LIMIT {limit:UInt32}
        """;

    // The site's own host is whatever host its pages were served from (the row's url), compared without case and
    // "www.", so internal navigation never shows up as a referrer; an empty referrer is direct traffic.
    private const string TopReferrersSql = """
        SELECT replaceRegexpOne(lower(referrer_host), '^www\\.', '') AS host, count() AS visits, uniqExact(anonymous_id) AS visitors

        """ + PageViewsInRange + """

          AND referrer_host != ''
          AND host != replaceRegexpOne(lower(domain(url)), '^www\\.', '')
        GROUP BY host
        ORDER BY visits DESC, host
        LIMIT {limit:UInt32}
        """;

    // Buckets start at local midnights (or hours) of the site's zone; WITH FILL adds the empty ones between the
    // bucket holding 'from' and 'to' (exclusive). The step is calendar-aware in the bucket's zone, so days across a
    // daylight-saving change stay aligned to local midnight. Filled rows only get the bucket, hence the outer SELECT
    // that turns it into seconds since the epoch after filling.
    private const string DailySeriesSql = """
        SELECT toUnixTimestamp(bucket), views, visitors FROM (
            SELECT toStartOfDay(timestamp, {tz:String}) AS bucket, count() AS views, uniqExact(anonymous_id) AS visitors

        """ + PageViewsInRange + """

            GROUP BY bucket
            ORDER BY bucket WITH FILL
                FROM toStartOfDay({from:DateTime64(3, 'UTC')}, {tz:String})
                TO toDateTime({to:DateTime64(3, 'UTC')}, {tz:String})
                STEP INTERVAL 1 DAY)
        """;

    private const string HourlySeriesSql = """
        SELECT toUnixTimestamp(bucket), views, visitors FROM (
            SELECT toStartOfHour(timestamp, {tz:String}) AS bucket, count() AS views, uniqExact(anonymous_id) AS visitors

        """ + PageViewsInRange + """

            GROUP BY bucket
            ORDER BY bucket WITH FILL
                FROM toStartOfHour({from:DateTime64(3, 'UTC')}, {tz:String})
                TO toDateTime({to:DateTime64(3, 'UTC')}, {tz:String})
                STEP INTERVAL 1 HOUR)
        """;

    public async Task<StatsResponse> GetAsync(SiteOptions site, StatsRange range, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(range);

        // Four small queries at once over the shared client: the report costs about the slowest of them.
        var totals = database.QueryAsync("stats.totals", TotalsSql, Parameters(site, range),
            r => (Views: Long(r, 0), Visitors: Long(r, 1)), cancellationToken);
        var pages = database.QueryAsync("stats.top_pages", TopPagesSql, Parameters(site, range),
            r => new PageStats(r.GetString(0), Long(r, 1), Long(r, 2)), cancellationToken);
        var referrers = database.QueryAsync("stats.top_referrers", TopReferrersSql, Parameters(site, range),
            r => new ReferrerStats(r.GetString(0), Long(r, 1), Long(r, 2)), cancellationToken);
        var series = database.QueryAsync("stats.series", range.Interval == StatsInterval.Hour ? HourlySeriesSql : DailySeriesSql,
            Parameters(site, range),
            r => new SeriesPoint(TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(Long(r, 0)), range.TimeZone), Long(r, 1), Long(r, 2)),
            cancellationToken);
        await Task.WhenAll(totals, pages, referrers, series);

        var (views, visitors) = (await totals).SingleOrDefault();
        return new StatsResponse(
            site.Id, site.TimeZone, range.From, range.To, range.Interval == StatsInterval.Hour ? "hour" : "day",
            views, visitors, await pages, await referrers, await series);
    }

    // A collection per query: the driver reads it while sending, and the four queries run concurrently.
    private static ClickHouseParameterCollection Parameters(SiteOptions site, StatsRange range)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site.Id);
        parameters.AddParameter("type", EventTypes.Pageview);
        parameters.AddParameter("from", range.From.UtcDateTime);
        parameters.AddParameter("to", range.To.UtcDateTime);
        parameters.AddParameter("tz", site.TimeZone);
        parameters.AddParameter("limit", (uint)range.Limit);
        return parameters;
    }

    private static long Long(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);
}
