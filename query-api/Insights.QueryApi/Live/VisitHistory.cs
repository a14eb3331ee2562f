using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Storage;

namespace Insights.QueryApi.Live;

/// <summary>
/// Returning or new: how many visits each joining visitor has made, looked up in <c>sessions</c> once a second for
/// everyone who joined since, one query per site (the table is sorted by site and visitor, so each id is a seek).
/// The processors publish an event only after storing its session, so the current visit is counted: 1 is new.
/// </summary>
/// <remarks>
/// Only for sites someone watches (<see cref="PresenceBoard.IsWatched"/>) or whose alert or invitation rules may ask for
/// visits. The others' visitors stay unknown (null) until someone opens the site: then the board queues them again and
/// their visits follow a second later as <c>visitor_updated</c>. A busy site nobody looks at costs no queries.
/// </remarks>
public sealed class VisitHistory(ReportsDatabase database, PresenceBoard board, SiteCatalog catalog)
{
    private const int Chunk = 1_000;

    private const string Sql = """
        SELECT anonymous_id, uniqExact(session_id)
        FROM sessions
        WHERE site_id = {site:String} AND anonymous_id IN {ids:Array(String)}
        GROUP BY anonymous_id
        """;

    /// <summary>Looks up everyone who joined since the last call; returns how many were looked up.</summary>
    public async Task<int> LookUpJoinedAsync(CancellationToken cancellationToken)
    {
        var joined = board.TakeJoined(int.MaxValue);
        foreach (var site in joined.GroupBy(j => j.Site, StringComparer.Ordinal))
        {
            if (!board.IsWatched(site.Key) && catalog.FindById(site.Key) is not ({ Alerts.Count: > 0 } or { Invitations.Count: > 0 }))
            {
                continue;
            }

            foreach (var chunk in site.Select(j => j.Visitor).Distinct(StringComparer.Ordinal).Chunk(Chunk))
            {
                var parameters = new ClickHouseParameterCollection();
                parameters.AddParameter("site", site.Key);
                parameters.AddParameter("ids", chunk);
                var counts = await database.QueryAsync("live.visits", Sql, parameters,
                    r => (Visitor: r.GetString(0), Visits: Convert.ToInt64(r.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)),
                    cancellationToken);
                foreach (var (visitor, visits) in counts)
                {
                    board.SetVisits(site.Key, visitor, visits);
                }
            }
        }

        return joined.Count;
    }
}
