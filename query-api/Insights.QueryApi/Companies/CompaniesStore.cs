using System.Collections.Frozen;
using System.Data.Common;
using System.Globalization;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Storage;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Companies;

/// <summary>
/// The company reports' SQL, over the <c>sessions</c> table the processors write (one row per visit, with the
/// business behind its network). Statements are constants; the site, range, filters, paging and every lead-score
/// weight travel as typed parameters. The sort is chosen among constant statements by a validated enum, never
/// spliced from input.
/// </summary>
/// <remarks>
/// <b>Exact counts.</b> <c>sessions</c> is a ReplacingMergeTree holding every version of a visit until a merge; <c>FINAL</c>
/// reads only the latest, so each visit counts once, and a batch the processors replayed (same session ids) adds
/// nothing. Visitors are <c>uniqExact</c>. No rollup table: a pre-aggregated count would be fed by inserts and count a
/// replayed version twice, and the report's weights change the score without rewriting anything.
/// Only businesses have a <c>company_id</c>: consumer ISPs, carriers, hosters, CDNs and anonymizers never do, and
/// bots and datacenter traffic have no sessions at all.
/// </remarks>
public sealed class CompaniesStore(ReportsDatabase database, IOptions<LeadScoreOptions> leadOptions, TimeProvider time)
{
    public const int TopPages = 5;
    private const int MaxVisitors = 100;

    // The score is the shared lead score (LeadScore), so a site's list and a partner's roll-up always agree.
    private const string Aggregates = """
        SELECT
            company_id,
            argMax(company_name, ended_at) AS name,
            argMax(company_domain, ended_at) AS domain,
            count() AS visits,
            uniqExact(anonymous_id) AS visitors,
            sum(page_views) AS views,
            toUnixTimestamp64Milli(min(started_at)) AS first_seen,
            toUnixTimestamp64Milli(max(ended_at)) AS last_seen,
        """ + LeadScore.Points + ",\n" + LeadScore.Score + ",\n" + """
            count() OVER () AS total,
            arrayElement(topKIf(1)(toString(country), country != ''), 1) AS main_country,
            uniqExactIf(anonymous_id, user_id != '') AS identified_visitors
        FROM sessions FINAL
        WHERE site_id = {site:String}
          AND started_at >= {from:DateTime64(3, 'UTC')}
          AND started_at < {to:DateTime64(3, 'UTC')}
          AND company_id != ''
          AND ({id:String} = '' OR company_id = {id:String})
          AND ({q:String} = '' OR positionCaseInsensitiveUTF8(company_name, {q:String}) > 0
               OR positionCaseInsensitiveUTF8(company_domain, {q:String}) > 0)
          AND ({country:String} = '' OR country = {country:String})
          AND ({target:UInt8} = 0 OR arrayExists(t -> lower(company_domain) = t OR endsWith(lower(company_domain), concat('.', t)),
                                                 {targets:Array(String)}))
        GROUP BY company_id
        HAVING score >= {min_score:Int32} AND ({identified:UInt8} = 0 OR identified_visitors > 0)
        """;

    private const string Page = "\nLIMIT {limit:UInt32} OFFSET {offset:UInt32}";

    private static readonly FrozenDictionary<(CompanySort, bool), string> ListSql = BuildListSql();

    private const string TopPagesSql = """
        SELECT company_id, page, count() AS visits
        FROM sessions FINAL
        ARRAY JOIN pages AS page
        WHERE site_id = {site:String}
          AND started_at >= {from:DateTime64(3, 'UTC')}
          AND started_at < {to:DateTime64(3, 'UTC')}
          AND company_id IN {ids:Array(String)}
        GROUP BY company_id, page
        ORDER BY company_id, visits DESC, page
        LIMIT {top:UInt32} BY company_id
        """;

    private const string VisitorsSql = """
        SELECT anonymous_id, count() AS visits, sum(page_views) AS views, toUnixTimestamp64Milli(max(ended_at)) AS last_seen
        FROM sessions FINAL
        WHERE site_id = {site:String}
          AND company_id = {id:String}
          AND started_at >= {from:DateTime64(3, 'UTC')}
          AND started_at < {to:DateTime64(3, 'UTC')}
        GROUP BY anonymous_id
        ORDER BY last_seen DESC, anonymous_id
        LIMIT {visitors:UInt32}
        """;

    private const string VisitsSql = "SELECT " + VisitRows.Columns + """

        FROM sessions FINAL
        WHERE site_id = {site:String}
          AND company_id = {id:String}
          AND started_at >= {from:DateTime64(3, 'UTC')}
          AND started_at < {to:DateTime64(3, 'UTC')}
        ORDER BY started_at DESC, session_id
        LIMIT {limit:UInt32} OFFSET {offset:UInt32}
        """;

    // Whether the id was ever seen for the site, outside the range too: a company with no visit this week is still
    // a company (200, empty timeline), an id nobody ever had is a 404.
    private const string ExistsSql = """
        SELECT count() FROM (SELECT 1 FROM sessions WHERE site_id = {site:String} AND company_id = {id:String} LIMIT 1)
        """;

    private readonly LeadScoreOptions leads = leadOptions.Value;

    public async Task<CompaniesResponse> ListAsync(SiteOptions site, CompanyFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(filter);
        var rows = await database.QueryAsync("companies.list", ListSql[(filter.Sort, filter.Descending)],
            Parameters(site, filter, id: ""), ReadSummary, cancellationToken);
        var companies = await WithTopPagesAsync(site, filter, rows, cancellationToken);
        return new CompaniesResponse(site.Id, site.TimeZone, filter.Range.From, filter.Range.To,
            CompanyParameters.NameOf(filter.Sort), filter.Descending ? "desc" : "asc",
            rows.Count > 0 ? rows[0].Total : 0, [.. companies.Select(c => ToZone(c, filter))], DataAttribution.DbIp);
    }

    /// <summary>The company's summary, visitors and visits in the range; null when the site never saw the id.</summary>
    public async Task<CompanyResponse?> GetAsync(SiteOptions site, string id, CompanyFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(filter);
        var summary = database.QueryAsync("companies.summary", ListSql[(CompanySort.Score, true)],
            Parameters(site, filter with { Offset = 0 }, id), ReadSummary, cancellationToken);
        var visitors = database.QueryAsync("companies.visitors", VisitorsSql, Parameters(site, filter, id),
            r => new CompanyVisitor(r.GetString(0), Long(r, 1), Long(r, 2), Instant(r, 3, filter)), cancellationToken);
        var visits = database.QueryAsync("companies.visits", VisitsSql, Parameters(site, filter, id),
            r => VisitRows.Read(r, filter.Range.TimeZone), cancellationToken);
        await Task.WhenAll(summary, visitors, visits);

        var rows = await summary;
        if (rows.Count == 0)
        {
            var seen = await database.QueryAsync("companies.exists", ExistsSql, Parameters(site, filter, id), r => Long(r, 0), cancellationToken);
            if (seen.SingleOrDefault() == 0)
            {
                return null;
            }

            // Known, but no visit in this range: its name comes from any of its visits.
            var visit = await database.QueryAsync("companies.name", "SELECT company_name, company_domain FROM sessions " +
                "WHERE site_id = {site:String} AND company_id = {id:String} ORDER BY ended_at DESC LIMIT 1",
                Parameters(site, filter, id), r => (Name: r.GetString(0), Domain: r.GetString(1)), cancellationToken);
            var (name, domain) = visit.SingleOrDefault();
            rows = [new Summary(id, name ?? "", Optional(domain), 0, 0, 0, 0, 0, 0, 0, null, 0)];
        }

        var company = (await WithTopPagesAsync(site, filter, rows, cancellationToken))[0];
        return new CompanyResponse(site.Id, site.TimeZone, filter.Range.From, filter.Range.To, ToZone(company, filter),
            await visitors, await visits, DataAttribution.DbIp);
    }

    private async Task<List<CompanySummary>> WithTopPagesAsync(SiteOptions site, CompanyFilter filter, List<Summary> rows, CancellationToken cancellationToken)
    {
        var pages = new Dictionary<string, List<PageVisits>>(StringComparer.Ordinal);
        if (rows.Any(r => r.Visits > 0))
        {
            var parameters = Parameters(site, filter, "");
            parameters.AddParameter("ids", rows.Select(r => r.Id).ToArray());
            parameters.AddParameter("top", (uint)TopPages);
            foreach (var (company, page) in await database.QueryAsync("companies.top_pages", TopPagesSql, parameters,
                         r => (r.GetString(0), new PageVisits(r.GetString(1), Long(r, 2))), cancellationToken))
            {
                (pages.TryGetValue(company, out var list) ? list : pages[company] = []).Add(page);
            }
        }

        return [.. rows.Select(r => new CompanySummary(r.Id, r.Name, r.Domain, r.Score, r.Visits, r.Visitors, r.PageViews,
            DateTimeOffset.FromUnixTimeMilliseconds(r.FirstSeen), DateTimeOffset.FromUnixTimeMilliseconds(r.LastSeen),
            pages.GetValueOrDefault(r.Id) ?? [], r.Country, site.IsTargetAccount(r.Domain), r.Identified))];
    }

    private static CompanySummary ToZone(CompanySummary company, CompanyFilter filter) => company.Visits == 0
        ? company with { FirstSeen = filter.Range.From, LastSeen = filter.Range.From }
        : company with
        {
            FirstSeen = TimeZoneInfo.ConvertTime(company.FirstSeen, filter.Range.TimeZone),
            LastSeen = TimeZoneInfo.ConvertTime(company.LastSeen, filter.Range.TimeZone),
        };

    private ClickHouseParameterCollection Parameters(SiteOptions site, CompanyFilter filter, string id)
    {
        var now = time.GetUtcNow();
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site.Id);
        parameters.AddParameter("from", filter.Range.From.UtcDateTime);
        parameters.AddParameter("to", filter.Range.To.UtcDateTime);
        parameters.AddParameter("id", id);
        parameters.AddParameter("q", filter.Search);
        parameters.AddParameter("min_score", filter.MinScore);
        parameters.AddParameter("limit", (uint)filter.Limit);
        parameters.AddParameter("offset", (uint)filter.Offset);
        parameters.AddParameter("visitors", (uint)MaxVisitors);
        parameters.AddParameter("country", filter.Country);
        parameters.AddParameter("identified", (byte)(filter.IdentifiedOnly ? 1 : 0));
        parameters.AddParameter("target", (byte)(filter.TargetAccountsOnly ? 1 : 0));
        parameters.AddParameter("targets", filter.TargetAccountsOnly ? site.TargetAccounts.Select(t => t.ToLowerInvariant()).ToArray() : []);
        return parameters.AddScoreParameters(leads, filter.Range.To < now ? filter.Range.To : now);
    }

    private static Summary ReadSummary(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), Optional(r.GetString(2)), Long(r, 3), Long(r, 4), Long(r, 5), Long(r, 6), Long(r, 7),
        Convert.ToInt32(r.GetValue(9), CultureInfo.InvariantCulture), Long(r, 10), Optional(r.GetString(11)), Long(r, 12));

    private static DateTimeOffset Instant(DbDataReader r, int ordinal, CompanyFilter filter) =>
        TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(Long(r, ordinal)), filter.Range.TimeZone);

    private static string? Optional(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static long Long(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    private static FrozenDictionary<(CompanySort, bool), string> BuildListSql()
    {
        var keys = new Dictionary<CompanySort, string>
        {
            [CompanySort.Score] = "score {0}, points {0}",
            [CompanySort.Visits] = "visits {0}",
            [CompanySort.Visitors] = "visitors {0}",
            [CompanySort.PageViews] = "views {0}",
            [CompanySort.LastSeen] = "last_seen {0}",
            [CompanySort.FirstSeen] = "first_seen {0}",
            [CompanySort.Name] = "lower(name) {0}",
        };
        var sql = new Dictionary<(CompanySort, bool), string>();
        foreach (var (sort, key) in keys)
        {
            foreach (var descending in new[] { true, false })
            {
                var direction = descending ? "DESC" : "ASC";
                sql[(sort, descending)] = Aggregates + "\nORDER BY " + string.Format(CultureInfo.InvariantCulture, key, direction) + ", company_id" + Page;
            }
        }

        return sql.ToFrozenDictionary();
    }

    private sealed record Summary(string Id, string Name, string? Domain, long Visits, long Visitors, long PageViews, long FirstSeen, long LastSeen,
        int Score, long Total, string? Country, long Identified);
}

/// <summary>A <c>sessions</c> row as a <see cref="Visit"/>: the columns to select and how to read them.</summary>
internal static class VisitRows
{
    public const string Columns = """
        session_id, anonymous_id, toUnixTimestamp64Milli(started_at), toUnixTimestamp64Milli(ended_at), duration, engaged_ms,
        page_views, bounce, entry_page, exit_page, pages, channel, referrer_host, utm_source, utm_medium, utm_campaign,
        country, region, city, device_type, browser, os, company_id, company_name, company_domain
        """;

    public static Visit Read(DbDataReader r, TimeZoneInfo zone)
    {
        string? Optional(int i) => r.GetString(i) is { Length: > 0 } value ? value : null;
        long Number(int i) => Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);
        DateTimeOffset At(int i) => TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(Number(i)), zone);

        var country = r.GetString(16);
        var deviceType = r.GetString(19);
        var companyId = r.GetString(22);
        return new Visit(
            r.GetString(0), r.GetString(1), At(2), At(3), Number(4), Number(5), Number(6), Convert.ToBoolean(r.GetValue(7), CultureInfo.InvariantCulture),
            r.GetString(8), r.GetString(9), (string[])r.GetValue(10), r.GetString(11), Optional(12), Optional(13), Optional(14), Optional(15),
            country.Length > 0 ? new Location(country, Optional(17), Optional(18)) : null,
            deviceType.Length > 0 ? new Device(deviceType, r.GetString(20), r.GetString(21)) : null,
            companyId.Length > 0 ? new CompanyRef(companyId, r.GetString(23), Optional(24)) : null);
    }
}
