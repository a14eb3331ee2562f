using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Stats;
using Insights.QueryApi.Storage;
using static Insights.QueryApi.Sales.RevenueReports;

namespace Insights.QueryApi.Goals;

/// <summary>
/// The goals report's SQL. Completions are written by attribution as they happen; whether one was chat-assisted is
/// decided here, at read time: the completing node is mapped to its person through <c>identities</c>, and an ASOF join
/// finds that person's latest chat started before the completion. A chat that arrived late, or a link made after the
/// completion, is therefore counted as soon as it is stored, with no rewrite of the completions.
/// </summary>
public sealed class GoalsStore(ReportsDatabase database)
{
    private const string CompletionsSql = """
        WITH completions AS
        (
            SELECT goal_id, key, timestamp, value, node
            FROM goal_completions FINAL
            WHERE site_id = {site:String} AND timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
        ),
        persons AS
        (
            SELECT id, person_id
            FROM identities FINAL
            WHERE site_id = {site:String}
        ),
        resolved AS
        (
            SELECT c.goal_id AS goal_id, c.key AS key, c.timestamp AS timestamp, c.value AS value,
                   if(p.person_id != '', p.person_id, c.node) AS person
            FROM completions AS c
            LEFT JOIN persons AS p ON p.id = c.node
        )
        SELECT r.goal_id, toDate(r.timestamp, {tz:String}) AS day, count(), uniqExact(r.person), sum(r.value),
               countIf(ch.person_id != '' AND ch.started_at >= r.timestamp - toIntervalSecond({window:UInt32}))
        FROM resolved AS r
        ASOF LEFT JOIN
        (
            SELECT person_id, started_at
            FROM chats FINAL
            WHERE site_id = {site:String}
              AND started_at >= {from:DateTime64(3, 'UTC')} - toIntervalSecond({window:UInt32}) AND started_at < {to:DateTime64(3, 'UTC')}
        ) AS ch ON r.person = ch.person_id AND r.timestamp >= ch.started_at
        GROUP BY GROUPING SETS ((r.goal_id), (r.goal_id, day))
        SETTINGS group_by_use_nulls = 1
        """;

    public async Task<GoalsResponse> GetAsync(SiteOptions site, StatsRange range, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(range);
        var window = TimeSpan.FromDays(site.AttributionWindowDays);
        // Converted persons do not add up across days (one person may complete on two), so the range's totals and the
        // series are grouped twice, by goal alone (day NULL) and by goal and day, in one pass over the joined completions.
        var completionsTask = database.QueryAsync("goals.completions", CompletionsSql, Parameters(site, range, window), Read, cancellationToken);
        var visitorsTask = Sales.VisitorCount.CountWithDaysAsync(database, site.Id, range, "goals.visitors", cancellationToken);
        await Task.WhenAll(completionsTask, visitorsTask);
        var (visitors, dailyVisitors) = await visitorsTask;
        var rows = await completionsTask;

        var byGoal = rows.Where(c => c.Day is null).ToDictionary(c => c.Goal, StringComparer.Ordinal);
        var byDay = rows.Where(c => c.Day is not null).ToDictionary(c => (c.Goal, c.Day!.Value));
        var days = range.Days();
        var goals = site.Goals.Select(goal =>
        {
            var c = byGoal.GetValueOrDefault(goal.Id);
            var series = days.Select(day =>
            {
                var d = byDay.GetValueOrDefault((goal.Id, day));
                var visitorsThatDay = dailyVisitors.GetValueOrDefault(day);
                return new GoalDay(day, d.Completions, d.Converted, visitorsThatDay, Rate(d.Converted, visitorsThatDay), d.Value, d.Assisted);
            }).ToList();
            return new GoalStats(goal.Id, goal.Name.Length > 0 ? goal.Name : goal.Id, goal.Kind, c.Completions, c.Converted,
                Rate(c.Converted, visitors), c.Value, c.Assisted, Rate(c.Assisted, c.Completions), series);
        }).ToList();

        return new GoalsResponse(site.Id, site.TimeZone, range.From, range.To, site.ReportingCurrency, site.AttributionWindowDays, visitors, goals);
    }

    private static GoalRow Read(System.Data.Common.DbDataReader r) =>
        new(r.GetString(0), r.IsDBNull(1) ? null : DateOnly.FromDateTime(r.GetDateTime(1)), Long(r, 2), Long(r, 3), Money(r, 4), Long(r, 5));

    private readonly record struct GoalRow(string Goal, DateOnly? Day, long Completions, long Converted, decimal Value, long Assisted);

    private static ClickHouseParameterCollection Parameters(SiteOptions site, StatsRange range, TimeSpan window)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site.Id);
        parameters.AddParameter("from", range.From.UtcDateTime);
        parameters.AddParameter("to", range.To.UtcDateTime);
        parameters.AddParameter("window", (uint)window.TotalSeconds);
        parameters.AddParameter("tz", site.TimeZone);
        return parameters;
    }
}
