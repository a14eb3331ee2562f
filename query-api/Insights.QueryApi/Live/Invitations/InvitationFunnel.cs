using System.ComponentModel;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Pipeline;
using Insights.QueryApi.Stats;
using Insights.QueryApi.Storage;
using Mediator;
using Microsoft.Extensions.Options;
using static Insights.QueryApi.Sales.RevenueReports;

namespace Insights.QueryApi.Live.Invitations;

/// <summary>The invitation funnel of a site over a range (issue 10 §6).</summary>
public sealed record InvitationFunnelQuery(string Site, PresentedKey Key, string? From, string? To)
    : IQuery<QueryOutcome<InvitationFunnelResponse>>, ISiteQuery<InvitationFunnelQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public InvitationFunnelQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

public sealed record InvitationFunnelResponse(
    [property: Description("The site id.")] string Site,
    [property: Description("Start of the range (inclusive): invitations sent from then.")] DateTimeOffset From,
    [property: Description("End of the range (exclusive).")] DateTimeOffset To,
    [property: Description("The reporting currency (ISO 4217) of revenue.")] string Currency,
    [property: Description("Days after an acceptance in which the visitor's goals and orders count for the invitation (the site's attribution window).")] int WindowDays,
    [property: Description("Each configured rule (in configuration order, zeros included), then rules since removed, then 'agent' for agents' own invitations.")]
    IReadOnlyList<InvitationFunnelRow> Rules);

public sealed record InvitationFunnelRow(
    [property: Description("The rule id, or 'agent'.")] string Rule,
    [property: Description("The rule's name (its id when it no longer exists).")] string Name,
    [property: Description("Invitations sent (by the rule or agents), each once however many instances recorded it.")] long Sent,
    [property: Description("Invitations the visitor's page reported shown.")] long Shown,
    [property: Description("Invitations accepted.")] long Accepted,
    [property: Description("Invitations declined.")] long Declined,
    [property: Description("Accepted invitations followed by a chat of the visitor, started after the acceptance and at most 30 minutes after the visit's last event.")] long ChatsStarted,
    [property: Description("Accepted invitations followed by a goal completion of the visitor within the window.")] long GoalsCompleted,
    [property: Description("Orders the visitor placed within the window after accepting (not cancelled).")] long Orders,
    [property: Description("Their net revenue in the reporting currency (orders without a rate are left out).")] decimal Revenue,
    [property: Description("Accepted / Shown.")] double AcceptanceRate);

public sealed class InvitationFunnelHandler(InvitationFunnelStore store, IOptions<QueryApiOptions> options, TimeProvider time)
    : IQueryHandler<InvitationFunnelQuery, QueryOutcome<InvitationFunnelResponse>>
{
    public async ValueTask<QueryOutcome<InvitationFunnelResponse>> Handle(InvitationFunnelQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite ?? throw new InvalidOperationException("InvitationFunnelQuery reached its handler unauthorized.");
        var zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        if (!StatsRange.TryCreate(query.From, query.To, null, null, zone, time.GetUtcNow(), options.Value, out var range, out var errors))
        {
            return QueryProblem.Invalid(errors);
        }

        return await store.GetAsync(site, range, cancellationToken);
    }
}

/// <summary>
/// The funnel's SQL: the invitation events (server-side <c>invitation_sent</c>, the visitor page's shown, accepted,
/// declined) grouped by invitation id, so copies recorded by several instances count once; then, for accepted ones,
/// the visitor's chats, goal completions and orders after the acceptance.
/// </summary>
public sealed class InvitationFunnelStore(ReportsDatabase database)
{
    public const string AgentRule = "agent";

    private const string Invitations = """
        invitations AS
        (
            SELECT JSONExtractString(properties, 'invitation_id') AS id,
                   max(JSONExtractString(properties, 'rule_id')) AS rule,
                   any(anonymous_id) AS visitor,
                   countIf(name = 'invitation_sent') > 0 AS sent,
                   countIf(name = 'invitation_shown') > 0 AS shown,
                   countIf(name = 'invitation_accepted') > 0 AS accepted,
                   countIf(name = 'invitation_declined') > 0 AS declined,
                   minIf(timestamp, name = 'invitation_accepted') AS accepted_at,
                   anyIf(session_id, name = 'invitation_accepted') AS session
            FROM events
            WHERE site_id = {site:String} AND type = 'track'
              AND name IN ('invitation_sent', 'invitation_shown', 'invitation_accepted', 'invitation_declined')
              AND timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')} + INTERVAL 1 DAY
            GROUP BY id
            HAVING id != '' AND (minIf(timestamp, name = 'invitation_sent') >= {from:DateTime64(3, 'UTC')} OR NOT sent)
               AND min(timestamp) < {to:DateTime64(3, 'UTC')}
        ),
        acceptances AS
        (
            SELECT a.id AS id, a.rule AS rule, a.visitor AS visitor, a.accepted_at AS accepted_at,
                   greatest(a.accepted_at, ifNull(s.ended_at, a.accepted_at)) + INTERVAL 30 MINUTE AS visit_end
            FROM invitations AS a
            LEFT JOIN
            (
                SELECT session_id, max(ended_at) AS ended_at
                FROM sessions FINAL
                WHERE site_id = {site:String} AND session_id IN (SELECT session FROM invitations WHERE accepted)
                GROUP BY session_id
            ) AS s ON s.session_id = a.session
            WHERE a.accepted
        )
        """;

    private const string CountsSql = "WITH " + Invitations + """
        SELECT rule, countIf(sent), countIf(shown), countIf(accepted), countIf(declined)
        FROM invitations
        GROUP BY rule
        """;

    private const string ChatsSql = "WITH " + Invitations + """
        SELECT a.rule, uniqExact(a.id)
        FROM acceptances AS a
        INNER JOIN
        (
            SELECT anonymous_id, started_at FROM chats FINAL
            WHERE site_id = {site:String} AND anonymous_id != '' AND started_at >= {from:DateTime64(3, 'UTC')}
        ) AS c ON c.anonymous_id = a.visitor
        WHERE c.started_at >= a.accepted_at AND c.started_at <= a.visit_end
        GROUP BY a.rule
        """;

    private const string GoalsSql = "WITH " + Invitations + """
        SELECT a.rule, uniqExact(a.id)
        FROM acceptances AS a
        INNER JOIN
        (
            SELECT anonymous_id, timestamp FROM goal_completions FINAL
            WHERE site_id = {site:String} AND anonymous_id != '' AND timestamp >= {from:DateTime64(3, 'UTC')}
        ) AS g ON g.anonymous_id = a.visitor
        WHERE g.timestamp >= a.accepted_at AND g.timestamp < a.accepted_at + toIntervalSecond({window:UInt32})
        GROUP BY a.rule
        """;

    private const string OrdersSql = "WITH " + Invitations + """
        SELECT a.rule, uniqExact(o.order_id), sum(ifNull(o.net_reporting, 0))
        FROM acceptances AS a
        INNER JOIN
        (
            SELECT anonymous_id, order_id, placed_at, net_reporting FROM orders FINAL
            WHERE site_id = {site:String} AND anonymous_id != '' AND NOT cancelled AND placed_at >= {from:DateTime64(3, 'UTC')}
        ) AS o ON o.anonymous_id = a.visitor
        WHERE o.placed_at >= a.accepted_at AND o.placed_at < a.accepted_at + toIntervalSecond({window:UInt32})
        GROUP BY a.rule
        """;

    public async Task<InvitationFunnelResponse> GetAsync(SiteOptions site, StatsRange range, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(range);
        var counts = database.QueryAsync("invitations.funnel", CountsSql, Parameters(site, range),
            r => (Rule: r.GetString(0), Sent: Long(r, 1), Shown: Long(r, 2), Accepted: Long(r, 3), Declined: Long(r, 4)), cancellationToken);
        var chats = database.QueryAsync("invitations.chats", ChatsSql, Parameters(site, range), r => (Rule: r.GetString(0), Count: Long(r, 1)), cancellationToken);
        var goals = database.QueryAsync("invitations.goals", GoalsSql, Parameters(site, range), r => (Rule: r.GetString(0), Count: Long(r, 1)), cancellationToken);
        var orders = database.QueryAsync("invitations.orders", OrdersSql, Parameters(site, range),
            r => (Rule: r.GetString(0), Orders: Long(r, 1), Revenue: Money(r, 2)), cancellationToken);
        await Task.WhenAll(counts, chats, goals, orders);

        var byRule = (await counts).ToDictionary(c => Key(c.Rule), StringComparer.Ordinal);
        var chatsBy = (await chats).ToDictionary(c => Key(c.Rule), c => c.Count, StringComparer.Ordinal);
        var goalsBy = (await goals).ToDictionary(c => Key(c.Rule), c => c.Count, StringComparer.Ordinal);
        var ordersBy = (await orders).ToDictionary(c => Key(c.Rule), StringComparer.Ordinal);
        var configured = site.Invitations.Select(r => (r.Id, r.Name)).ToList();
        var ids = configured.Select(r => r.Id)
            .Concat(byRule.Keys.Where(k => k != AgentRule && configured.TrueForAll(r => r.Id != k)).Order(StringComparer.Ordinal))
            .Append(AgentRule);
        var rows = ids.Select(id =>
        {
            var c = byRule.GetValueOrDefault(id);
            var o = ordersBy.GetValueOrDefault(id);
            var name = id == AgentRule ? "Agents' invitations" : configured.Find(r => r.Id == id).Name ?? id;
            return new InvitationFunnelRow(id, name, c.Sent, c.Shown, c.Accepted, c.Declined, chatsBy.GetValueOrDefault(id), goalsBy.GetValueOrDefault(id),
                o.Orders, o.Revenue, Rate(c.Accepted, c.Shown));
        }).ToList();
        return new InvitationFunnelResponse(site.Id, range.From, range.To, site.ReportingCurrency, site.AttributionWindowDays, rows);
    }

    private static string Key(string rule) => rule.Length == 0 ? AgentRule : rule;

    private static ClickHouseParameterCollection Parameters(SiteOptions site, StatsRange range)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site.Id);
        parameters.AddParameter("from", range.From.UtcDateTime);
        parameters.AddParameter("to", range.To.UtcDateTime);
        parameters.AddParameter("window", (uint)TimeSpan.FromDays(site.AttributionWindowDays).TotalSeconds);
        return parameters;
    }
}
