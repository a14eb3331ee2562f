using System.Data.Common;
using System.Diagnostics;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Storage;
using Microsoft.Extensions.Options;

namespace Insights.Processors.Sessions;

/// <summary>Reads visitors' stored sessions back from ClickHouse, for the visitors memory cannot answer for.</summary>
public sealed class SessionStore(
    ClickHouseClient clickHouse,
    IOptions<ClickHouseStorageOptions> storageOptions,
    IOptions<ProcessorOptions> processorOptions,
    ProcessorMetrics metrics)
{
    public const string Table = "sessions";

    // Every version of a session lives in one monthly partition (opened_at), so FINAL may collapse partitions one by
    // one. The sorting key starts with (site_id, anonymous_id): the look-up reads a few granules per partition.
    private const string LookupSql = """
        SELECT session_id, anonymous_id, user_id, opened_at, started_at, ended_at, entry_at, exit_at, engaged_ms,
               page_views, events, interactions, entry_page, exit_page, pages, landing_referrer, referrer_host, channel,
               utm_source, utm_medium, utm_campaign, utm_term, utm_content, country, region, city, browser, os, device_type,
               network_kind, company_id, company_name, company_domain, kafka_partition, last_offset, last_received_at
        FROM sessions FINAL
        WHERE site_id = {site:String}
          AND anonymous_id IN {visitors:Array(String)}
          AND ended_at >= {since:DateTime64(3, 'UTC')}
        """;

    private readonly string database = storageOptions.Value.Database;
    private readonly int lookupMaxBytes = storageOptions.Value.LookupMaxBytes;
    private readonly TimeSpan timeout = TimeSpan.FromSeconds(processorOptions.Value.InsertTimeoutSeconds);

    /// <summary>The stored sessions of each visitor, every one that ended at or after the visitor's <see cref="LookupNeed.Since"/>.</summary>
    public async Task<Dictionary<LookupNeed, List<Session>>> LookUpAsync(IReadOnlyList<LookupNeed> needs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(needs);
        var found = needs.ToDictionary(n => n, _ => new List<Session>());
        if (needs.Count == 0)
        {
            return found;
        }

        var started = Stopwatch.GetTimestamp();
        // One query per site and chunk of visitors (cut by encoded size: ids of any length and alphabet fit the URL),
        // from the earliest time any of them needs; each visitor then keeps only what its own window asks for.
        foreach (var site in needs.GroupBy(n => n.Visitor.Site, StringComparer.Ordinal))
        {
            var byVisitor = site.GroupBy(n => n.Visitor.Visitor, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
            foreach (var chunk in LookupChunks.Chunk(byVisitor.Keys, lookupMaxBytes))
            {
                var since = chunk.SelectMany(v => byVisitor[v]).Min(n => n.Since);
                foreach (var session in await QueryAsync(site.Key, chunk, since, cancellationToken))
                {
                    foreach (var need in byVisitor[session.Visitor])
                    {
                        if (session.EndedAt >= need.Since)
                        {
                            found[need].Add(session);
                        }
                    }
                }
            }
        }

        metrics.SessionLookups(needs.Count, Stopwatch.GetElapsedTime(started));
        return found;
    }

    private async Task<List<Session>> QueryAsync(string site, string[] visitors, DateTime since, CancellationToken cancellationToken)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site);
        parameters.AddParameter("visitors", visitors);
        parameters.AddParameter("since", since < DateTime.UnixEpoch ? DateTime.UnixEpoch : since);
        var options = new QueryOptions
        {
            Database = database,
            CustomSettings = new Dictionary<string, object>(StringComparer.Ordinal) { ["do_not_merge_across_partitions_select_final"] = 1 },
        };

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var reader = await clickHouse.ExecuteReaderAsync(LookupSql, parameters, options, deadline.Token);
        var sessions = new List<Session>();
        while (await reader.ReadAsync(deadline.Token))
        {
            sessions.Add(Read(reader, site));
        }

        return sessions;
    }

    private static Session Read(DbDataReader r, string site)
    {
        var i = 0;
        string S() => r.GetString(i++);
        DateTime T() => DateTime.SpecifyKind(r.GetDateTime(i++), DateTimeKind.Utc);
        uint U() => Convert.ToUInt32(r.GetValue(i++), System.Globalization.CultureInfo.InvariantCulture);

        var id = S();
        var visitor = S();
        return new Session
        {
            Id = id,
            Site = site,
            Visitor = visitor,
            UserId = S(),
            OpenedAt = T(),
            StartedAt = T(),
            EndedAt = T(),
            EntryAt = T(),
            ExitAt = T(),
            EngagedMs = Convert.ToUInt64(r.GetValue(i++), System.Globalization.CultureInfo.InvariantCulture),
            PageViews = U(),
            Events = U(),
            Interactions = U(),
            EntryPage = S(),
            ExitPage = S(),
            Pages = [.. (string[])r.GetValue(i++)],
            LandingReferrer = S(),
            ReferrerHost = S(),
            Channel = S(),
            UtmSource = S(),
            UtmMedium = S(),
            UtmCampaign = S(),
            UtmTerm = S(),
            UtmContent = S(),
            Country = S(),
            Region = S(),
            City = S(),
            Browser = S(),
            Os = S(),
            DeviceType = S(),
            NetworkKind = S(),
            CompanyId = S(),
            CompanyName = S(),
            CompanyDomain = S(),
            KafkaPartition = Convert.ToInt32(r.GetValue(i++), System.Globalization.CultureInfo.InvariantCulture),
            LastOffset = Convert.ToInt64(r.GetValue(i++), System.Globalization.CultureInfo.InvariantCulture),
            LastReceivedAt = T(),
        };
    }
}
