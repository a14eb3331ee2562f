using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Storage;

namespace Insights.QueryApi.Live.Invitations;

/// <summary>
/// The slow half of invitations, off the site locks: records queued invitation events in Kafka, and once a second looks
/// up what storage knows of the visitors who joined since (their declines, for the decline pause, and the rules already
/// sent this visit, so an instance started mid-visit does not invite again).
/// </summary>
public sealed class InvitationWorker(
    InvitationRecorder recorder, InvitationWatcher watcher, PresenceBoard board, ReportsDatabase database, SiteCatalog catalog, TimeProvider time,
    ILogger<InvitationWorker> logger) : BackgroundService
{
    private const int Chunk = 1_000;

    // Declines within the longest pause of the site's rules, and what this visitor's current visits were sent.
    private const string Sql = """
        SELECT anonymous_id, name, JSONExtractString(properties, 'rule_id') AS rule, session_id, max(received_at)
        FROM events
        WHERE site_id = {site:String} AND type = 'track' AND name IN ('invitation_declined', 'invitation_sent')
          AND anonymous_id IN {ids:Array(String)} AND timestamp >= {since:DateTime64(3, 'UTC')}
        GROUP BY anonymous_id, name, rule, session_id
        """;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(RecordAsync(stoppingToken), LookUpAsync(stoppingToken));

    private async Task RecordAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var e in recorder.Queue.ReadAllAsync(stoppingToken))
            {
                // A failure is logged by the recorder; the visitor already has the invitation, only the count misses it.
                await recorder.SendAsync(e, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task LookUpAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await LookUpJoinedAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Looks up every visitor who joined since the last call; returns how many.</summary>
    internal async Task<int> LookUpJoinedAsync(CancellationToken cancellationToken)
    {
        var joined = watcher.TakeJoined(int.MaxValue);
        foreach (var site in joined.GroupBy(j => j.Site, StringComparer.Ordinal))
        {
            var options = catalog.FindById(site.Key);
            var days = options?.Invitations.Count > 0 ? Math.Max(1, options.Invitations.Max(r => r.DeclineCooldownDays)) : 0;
            foreach (var chunk in site.Select(j => j.Visitor).Distinct(StringComparer.Ordinal).Chunk(Chunk))
            {
                var found = new List<(string Visitor, string Name, string Rule, string Session, DateTimeOffset At)>();
                if (days > 0)
                {
                    try
                    {
                        var parameters = new ClickHouseParameterCollection();
                        parameters.AddParameter("site", site.Key);
                        parameters.AddParameter("ids", chunk);
                        parameters.AddParameter("since", (time.GetUtcNow() - TimeSpan.FromDays(days)).UtcDateTime);
                        found = await database.QueryAsync("live.invitations", Sql, parameters,
                            r => (r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3),
                                new DateTimeOffset(DateTime.SpecifyKind(r.GetDateTime(4), DateTimeKind.Utc))), cancellationToken);
                    }
                    catch (Exception error) when (error is not OperationCanceledException)
                    {
                        // Failing open: an invitation paused wrongly is never seen, one sent again is seen and can be declined.
                        logger.InvitationDeclinesLookupFailed(error);
                    }
                }

                Apply(site.Key, chunk, found);
            }
        }

        return joined.Count;
    }

    private void Apply(string siteId, string[] visitors, List<(string Visitor, string Name, string Rule, string Session, DateTimeOffset At)> found)
    {
        var byVisitor = found.ToLookup(f => f.Visitor, StringComparer.Ordinal);
        var site = board.Site(siteId);
        lock (site.Gate)
        {
            foreach (var id in visitors)
            {
                if (!site.Visitors.TryGetValue(id, out var visitor) || visitor.Invitations is not { } memory)
                {
                    continue;
                }

                foreach (var (_, name, rule, session, at) in byVisitor[id])
                {
                    if (rule.Length == 0)
                    {
                        continue;
                    }

                    if (name == InvitationEvents.Declined && (!memory.Declined.TryGetValue(rule, out var known) || known < at))
                    {
                        memory.Declined[rule] = at;
                    }
                    else if (name == InvitationEvents.Sent && session.Length > 0 && string.Equals(session, memory.SessionId, StringComparison.Ordinal))
                    {
                        memory.Fired.Add(rule);
                    }
                }

                memory.DeclinesKnown = true;
            }
        }
    }
}
