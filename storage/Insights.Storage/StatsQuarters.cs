using ClickHouse.Driver;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;

namespace Insights.Storage;

/// <summary>
/// The stats report's settled quarter hours (migration 0021): which quarter hours are settled, and the roll-up that
/// settles them. The processors run <see cref="RollAsync"/> on a timer; the query API reads the rows of settled quarter
/// hours and the raw events of the others.
/// </summary>
/// <remarks>
/// <b>Why exact.</b> A quarter hour is rolled up only once no page view has been written into it for
/// <c>settle</c> (longer than any insert may take, so every insert whose touch the selection saw has committed), from
/// <c>events FINAL</c> (replayed copies once). Its state then records <c>rolled</c> = that cut-off, which is at least its
/// last touch. Any later insert into it, a replay or a late event, touches it again after the cut-off, so it reads as
/// unsettled (raw) until the next roll-up. A subject erasure deletes the quarter hours' rows and touches them
/// (<see cref="ForgetSql"/>).
/// </remarks>
public static class StatsQuarters
{
    /// <summary>A page view's referrer host as the stats report lists it: lower case, without "www.".</summary>
    public const string ReferringHost = """replaceRegexpOne(lower(referrer_host), '^www\\.', '')""";

    /// <summary>The host the page was served from, the same way: a referrer equal to it is internal navigation.</summary>
    public const string OwnHost = """replaceRegexpOne(lower(domain(url)), '^www\\.', '')""";

    /// <summary>The dims of <c>stats_quarters</c>.</summary>
    public const int AllPageViews = 0, Paths = 1, Referrers = 2;

    // Touched before the cut-off and not rolled since. The cut-off comes from the server's clock, the one the touches use.
    private const string DueSql = """
        SELECT site_id, quarter, now64(3, 'UTC') - toIntervalSecond({settle:UInt32}) AS cutoff
        FROM stats_quarter_state
        GROUP BY site_id, quarter
        HAVING max(rolled) < max(touched) AND max(touched) <= cutoff
        ORDER BY site_id, quarter
        LIMIT {limit:UInt32}
        """;

    // The figures the raw report computes, per quarter hour: StatsStore's page-view conditions (bots excluded), its
    // visitor hash, and its referrer rule (not the site's own host, compared without case and "www.").
    private const string RollSql = """
        INSERT INTO stats_quarters (site_id, quarter, dim, value, version, views, anonymous, visitors)
        SELECT {site:String}, quarter, dim, value, {version:DateTime64(3, 'UTC')}, count(), countIf(anonymous), uniqExactStateIf(visitor, dim != 0)
        FROM
        (
            SELECT toDateTime(toStartOfFifteenMinutes(timestamp), 'UTC') AS quarter, path, cityHash64(anonymous_id) AS visitor,
                   anonymous_id = '' AS anonymous,
        """ + "\n" + ReferringHost + " AS referring_host,\n" +
        "if(referrer_host != '' AND referring_host != " + OwnHost + ", referring_host, '') AS referrer\n" + """
            FROM events FINAL
            WHERE site_id = {site:String}
              AND type = 'pageview'
              AND timestamp >= {from:DateTime64(3, 'UTC')}
              AND timestamp < {to:DateTime64(3, 'UTC')}
              AND bot_reason = ''
              AND quarter IN {quarters:Array(DateTime('UTC'))}
        )
        ARRAY JOIN [0, 1, 2] AS dim, ['', path, referrer] AS value
        WHERE dim != 2 OR value != ''
        GROUP BY quarter, dim, value
        """;

    private const string RolledSql = """
        INSERT INTO stats_quarter_state (site_id, quarter, touched, rolled)
        SELECT {site:String}, arrayJoin({quarters:Array(DateTime('UTC'))}), toDateTime64(0, 3, 'UTC'), {version:DateTime64(3, 'UTC')}
        """;

    /// <summary>
    /// The quarter hours in [from, to) of a site that are not settled: read them raw. A quarter hour without a state row
    /// has never had a page view written into it.
    /// </summary>
    public const string UnsettledSql = """
        SELECT quarter
        FROM stats_quarter_state
        WHERE site_id = {site:String} AND quarter >= {from:DateTime64(3, 'UTC')} AND quarter < {to:DateTime64(3, 'UTC')}
        GROUP BY quarter
        HAVING max(rolled) < max(touched)
        ORDER BY quarter
        """;

    /// <summary>
    /// After an erasure deleted a person's events: their quarter hours' rows go (the visitor sets hold their hash) and the
    /// quarter hours are touched, so they read raw until rolled up again without them. Parameters: site, quarters.
    /// </summary>
    /// On a cluster the delete goes to the shard-local tables on every host (a Distributed table takes no DELETE).
    public static string ForgetSql(ClickHouseStorageOptions storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var target = storage.IsCluster ? $"stats_quarters_local ON CLUSTER {storage.Cluster}" : "stats_quarters";
        return $"DELETE FROM {target} WHERE site_id = {{site:String}} AND quarter IN {{quarters:Array(DateTime('UTC'))}}";
    }

    /// <summary>Marks quarter hours written now (see <see cref="ForgetSql"/>). Parameters: site, quarters.</summary>
    public const string TouchSql = """
        INSERT INTO stats_quarter_state (site_id, quarter, touched, rolled)
        SELECT {site:String}, arrayJoin({quarters:Array(DateTime('UTC'))}), now64(3, 'UTC'), toDateTime64(0, 3, 'UTC')
        """;

    /// <summary>
    /// Rolls up to <paramref name="limit"/> due quarter hours (oldest first per site) and returns how many it rolled: fewer
    /// than the limit means none is left due.
    /// </summary>
    public static async Task<int> RollAsync(ClickHouseClient client, string database, TimeSpan settle, int limit, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var options = new QueryOptions { Database = database };
        var due = new List<(string Site, DateTime Quarter, DateTime Cutoff)>();
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("settle", (uint)settle.TotalSeconds);
        parameters.AddParameter("limit", (uint)limit);
        using (var deadline = Deadline(timeout, cancellationToken))
        using (var reader = await client.ExecuteReaderAsync(DueSql, parameters, options, deadline.Token))
        {
            while (await reader.ReadAsync(deadline.Token))
            {
                due.Add((reader.GetString(0), Utc(reader.GetDateTime(1)), Utc(reader.GetDateTime(2))));
            }
        }

        // One statement per site and day: the events' sorting key (site, day) then bounds what each one reads, even when a
        // late event makes a quarter hour of months ago due together with today's.
        foreach (var day in due.GroupBy(d => (d.Site, d.Quarter.Date)))
        {
            var quarters = day.Select(d => d.Quarter).ToArray();
            var roll = new ClickHouseParameterCollection();
            roll.AddParameter("site", day.Key.Site);
            roll.AddParameter("quarters", quarters);
            roll.AddParameter("version", day.First().Cutoff);
            roll.AddParameter("from", quarters[0]);
            roll.AddParameter("to", quarters[^1].AddMinutes(15));
            // The rows first, then the state that says they are there: a reader never takes a quarter hour as settled
            // before its rows are in.
            using var deadline = Deadline(timeout, cancellationToken);
            await client.ExecuteNonQueryAsync(RollSql, roll, options, deadline.Token);
            await client.ExecuteNonQueryAsync(RolledSql, roll, options, deadline.Token);
        }

        return due.Count;
    }

    private static CancellationTokenSource Deadline(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        return deadline;
    }

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);
}
