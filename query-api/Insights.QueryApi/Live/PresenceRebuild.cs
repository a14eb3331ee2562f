using System.Data.Common;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Storage;

namespace Insights.QueryApi.Live;

/// <summary>
/// Presence at start-up: the visitor events of the last idle timeout from ClickHouse (what the processors stored,
/// with the visit each belongs to), replayed through the state machine without publishing, so an instance started
/// mid-day shows who is on the sites within seconds instead of an empty list.
/// </summary>
public sealed class PresenceRebuild(ReportsDatabase database, PresenceBoard board, TimeProvider time)
{
    // The date bound lets ClickHouse skip old monthly partitions and days of the sort key; received_at is the server's
    // clock, which is what presence's idle timeout runs on.
    private const string Sql = """
        SELECT e.event_id, e.type, e.name, e.site_id, e.anonymous_id, e.user_id, e.timestamp, e.received_at, e.session_id,
               e.url, e.path, e.title, e.referrer, e.utm_source, e.utm_medium, e.utm_campaign, e.utm_term, e.utm_content,
               e.country, e.region, e.city, e.device_type, e.browser, e.os, e.company_id, e.company_name, e.company_domain,
               s.started_at, s.page_views, s.channel, s.landing_referrer,
               s.utm_source, s.utm_medium, s.utm_campaign, s.utm_term, s.utm_content
        FROM events AS e
        LEFT JOIN (
            SELECT session_id, started_at, page_views, channel, landing_referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content
            FROM sessions FINAL
            WHERE ended_at >= {since:DateTime64(3, 'UTC')} - INTERVAL 1 DAY
        ) AS s ON s.session_id = e.session_id
        WHERE e.received_at >= {since:DateTime64(3, 'UTC')}
          AND toDate(e.timestamp) >= toDate({since:DateTime64(3, 'UTC')}) - 1
          AND e.bot_reason = '' AND e.anonymous_id != ''
        ORDER BY e.received_at, e.event_id
        """;

    /// <summary>Replays the window into the board; returns the events read.</summary>
    public async Task<int> RunAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("since", (time.GetUtcNow() - window).UtcDateTime);
        var events = 0;
        await foreach (var e in database.StreamAsync("live.rebuild", Sql, parameters, Read, cancellationToken))
        {
            board.Apply(e, publish: false);
            events++;
        }

        return events;
    }

    private static LiveEvent Read(DbDataReader r)
    {
        string? S(int i) => r.IsDBNull(i) || r.GetString(i) is not { Length: > 0 } s ? null : s;
        DateTimeOffset T(int i) => new(DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc));
        var session = S(8);
        return new LiveEvent
        {
            EventId = r.GetString(0),
            Type = r.GetString(1),
            Name = S(2),
            SiteId = r.GetString(3),
            VisitorId = S(4),
            UserId = S(5),
            Timestamp = T(6),
            ReceivedAt = T(7),
            Visit = session is null || r.IsDBNull(27) || r.GetDateTime(27).Year < 2000 ? null
                : new LiveVisit(session, T(27), Convert.ToInt32(r.GetValue(28), System.Globalization.CultureInfo.InvariantCulture), S(29), S(30),
                    Campaign(S(31), S(32), S(33), S(34), S(35))),
            Url = S(9),
            Path = S(10),
            Title = S(11),
            Referrer = S(12),
            Campaign = Campaign(S(13), S(14), S(15), S(16), S(17)),
            Geo = S(18) is { } country ? new LiveGeo(country, S(19), S(20)) : null,
            Device = S(21) is { } type ? new LiveDevice(type, r.GetString(22), r.GetString(23)) : null,
            Company = S(24) is { } id ? new LiveCompany(id, r.GetString(25), S(26)) : null,
        };
    }

    private static LiveCampaign? Campaign(string? source, string? medium, string? name, string? term, string? content) =>
        (source ?? medium ?? name ?? term ?? content) is null ? null : new LiveCampaign(source, medium, name, term, content);
}
