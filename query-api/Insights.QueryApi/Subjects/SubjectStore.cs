using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Insights.QueryApi.Storage;
using Insights.Storage;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Subjects;

/// <summary>The ids a subject resolved to: graph nodes with their kind prefix (<c>a:</c>, <c>u:</c>, <c>e:</c>, <c>c:</c>, <c>o:</c>).</summary>
public sealed record SubjectIds(IReadOnlyList<string> Nodes, int WeakLinksNotFollowed)
{
    public IReadOnlyList<string> Of(char kind) => [.. Nodes.Where(n => n[0] == kind).Select(n => n[2..]).Order(StringComparer.Ordinal)];
}

/// <summary>
/// Every table that holds something about a person, and how to find their rows in it. One list for export, count and
/// delete, so what is exported is what is erased. <c>SubjectSchemaTests</c> fails when a migration adds a table with a
/// person's id column that is not listed here.
/// </summary>
/// <remarks>
/// A row is the subject's when any of its id columns holds one of the subject's ids: their own rows, and also rows of
/// others that name them (a chat whose person id is the subject's visitor id). The id arrays are derived in SQL from the
/// one <c>{nodes}</c> parameter, so each statement's URL carries every id once. Ids shorter than the prefix plus one
/// character are never taken: <c>anonymous_id IN ['']</c> would match every server-side row without a visitor.
/// </remarks>
public static class PersonalTables
{
    private const string Nodes = "{nodes:Array(String)}";
    private const string Anonymous = "arrayMap(sn -> substring(sn, 3), arrayFilter(sn -> startsWith(sn, 'a:') AND length(sn) > 2, {nodes:Array(String)}))";
    private const string Users = "arrayMap(sn -> substring(sn, 3), arrayFilter(sn -> startsWith(sn, 'u:') AND length(sn) > 2, {nodes:Array(String)}))";
    private const string Emails = "arrayMap(sn -> substring(sn, 3), arrayFilter(sn -> startsWith(sn, 'e:') AND length(sn) > 2, {nodes:Array(String)}))";
    private const string Chats = "arrayMap(sn -> substring(sn, 3), arrayFilter(sn -> startsWith(sn, 'c:') AND length(sn) > 2, {nodes:Array(String)}))";
    private const string Orders = "arrayMap(sn -> substring(sn, 3), arrayFilter(sn -> startsWith(sn, 'o:') AND length(sn) > 2, {nodes:Array(String)}))";

    /// <summary>
    /// In delete order: the facts the processors derive from first (links, chat and order events, events), then what
    /// they derived. A processor batch that reads the person while the erasure runs then finds fewer facts, not more.
    /// </summary>
    public static IReadOnlyList<(string Table, string Where)> All { get; } =
    [
        ("identity_links", $"id IN {Nodes} OR linked_id IN {Nodes}"),
        ("chat_events", $"chat_id IN {Chats} OR anonymous_id IN {Anonymous} OR user_id IN {Users} OR email_hash IN {Emails}"),
        ("order_events", $"order_id IN {Orders} OR anonymous_id IN {Anonymous} OR user_id IN {Users} OR email_hash IN {Emails}"),
        ("events", $"anonymous_id IN {Anonymous} OR user_id IN {Users}"),
        ("identities", $"id IN {Nodes} OR person_id IN {Nodes} OR strong_person_id IN {Nodes}"),
        ("chats", $"chat_id IN {Chats} OR person_id IN {Nodes} OR anonymous_id IN {Anonymous} OR user_id IN {Users} OR email_hash IN {Emails}"),
        ("orders", $"order_id IN {Orders} OR person_id IN {Nodes} OR anonymous_id IN {Anonymous} OR user_id IN {Users} OR email_hash IN {Emails}"),
        ("attribution_credits", $"order_id IN {Orders} OR chat_id IN {Chats} OR person_id IN {Nodes}"),
        ("goal_completions", $"node IN {Nodes} OR key IN {Nodes} OR anonymous_id IN {Anonymous}"),
        ("sessions", $"anonymous_id IN {Anonymous} OR user_id IN {Users}"),
        // A 64-bit hash of the visitor id, not the id: still pseudonymous data about them, so it goes too.
        ("visitor_quarters", $"visitor IN arrayMap(sn -> cityHash64(sn), {Anonymous})"),
    ];
}

/// <summary>
/// The subject requests' SQL: resolving a subject through the identity graph, exporting, counting and deleting their
/// rows, and the audit record. Statements are constants (table names from <see cref="PersonalTables"/>, the cluster name
/// from validated configuration); the site and the ids travel as typed parameters.
/// </summary>
public sealed class SubjectStore(ReportsDatabase database, IOptions<SubjectOptions> subjectOptions, IOptions<ClickHouseStorageOptions> storage, TimeProvider time)
{
    /// <summary>Strength of a link the subject stated (an event carrying both ids); weaker ones are guesses (same IP and user agent).</summary>
    private const int StrongLink = 2;

    // publicOnly: every stored copy of the link came from an event sent with the site's public write key (ingest
    // namespaces those ids "pub:"), i.e. a claim anyone who reads the page's HTML could have made.
    private const string LinksSql = """
        SELECT id, linked_id, max(strength), min(startsWith(event_id, 'pub:'))
        FROM identity_links
        WHERE site_id = {site:String} AND id IN {frontier:Array(String)}
        GROUP BY id, linked_id
        """;

    private const string AuditTable = "subject_requests";

    private static readonly string[] AuditColumns =
        ["request_id", "requested_at", "site_id", "action", "subject_kind", "subject_hash", "key_hash", "ids_covered", "weak_links_not_followed", "tables", "rows"];

    private static readonly Dictionary<string, string> AuditTypes = new(StringComparer.Ordinal)
    {
        ["request_id"] = "UUID",
        ["requested_at"] = "DateTime64(3, 'UTC')",
        ["site_id"] = "LowCardinality(String)",
        ["action"] = "LowCardinality(String)",
        ["subject_kind"] = "LowCardinality(String)",
        ["subject_hash"] = "String",
        ["key_hash"] = "String",
        ["ids_covered"] = "UInt32",
        ["weak_links_not_followed"] = "UInt32",
        ["tables"] = "Array(String)",
        ["rows"] = "Array(UInt64)",
    };

    // Lightweight deletes answer once the rows are invisible to every query on every replica (2); physical removal
    // follows at the parts' next merges. Explicit, so a server default of 0 cannot turn the 200 into a promise.
    private static readonly Dictionary<string, object> DeleteSettings = new(StringComparer.Ordinal) { ["lightweight_deletes_sync"] = 2 };

    private readonly SubjectOptions options = subjectOptions.Value;
    private readonly TimeSpan statementTimeout = TimeSpan.FromSeconds(subjectOptions.Value.StatementTimeoutSeconds);
    private static readonly Dictionary<string, object> EmptySettings = new(StringComparer.Ordinal);

    private readonly Dictionary<string, (string Count, string Export, string Delete, string Quarters)> statements = Statements(storage.Value);
    private readonly string forgetQuarters = StatsQuarters.ForgetSql(storage.Value);

    /// <summary>
    /// The subject's ids: breadth-first over the links the subject stated (strong), never over guessed ones (weak: the
    /// same IP and user agent), which may be someone else — an erasure must not take a stranger's data with it, nor an
    /// export hand it out. Null when the ids pass <see cref="SubjectOptions.MaxSubjectIdBytes"/> or the chain
    /// <see cref="SubjectOptions.MaxLinkRounds"/>.
    /// </summary>
    public async Task<SubjectIds?> ResolveAsync(SiteOptions site, Subject subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(subject);
        var visited = new HashSet<string>(StringComparer.Ordinal) { subject.Node };
        var weak = new HashSet<string>(StringComparer.Ordinal);
        var bytes = LookupChunks.EncodedBytes(subject.Node);
        List<string> frontier = [subject.Node];
        for (var round = 0; frontier.Count > 0; round++)
        {
            if (round == options.MaxLinkRounds)
            {
                return null;
            }

            var parameters = new ClickHouseParameterCollection();
            parameters.AddParameter("site", site.Id);
            parameters.AddParameter("frontier", frontier.ToArray());
            var links = await database.QueryAsync("subjects.links", LinksSql, parameters,
                r => (From: r.GetString(0), Node: r.GetString(1), Strength: Convert.ToInt32(r.GetValue(2), CultureInfo.InvariantCulture),
                    PublicOnly: Convert.ToInt32(r.GetValue(3), CultureInfo.InvariantCulture) == 1), cancellationToken, statementTimeout);

            frontier = [];
            foreach (var (from, node, strength, publicOnly) in links)
            {
                if (node.Length <= 2)
                {
                    continue; // a node without an id names nobody; see PersonalTables
                }

                if (strength < StrongLink || ClaimsAnAccount(from, node, publicOnly))
                {
                    weak.Add(node);
                }
                else if (visited.Add(node))
                {
                    bytes += LookupChunks.EncodedBytes(node);
                    if (bytes > options.MaxSubjectIdBytes)
                    {
                        return null;
                    }

                    frontier.Add(node);
                }
            }
        }

        weak.ExceptWith(visited);
        return new SubjectIds([.. visited.Order(StringComparer.Ordinal)], weak.Count);
    }

    /// <summary>
    /// A link from a visitor id to a user id or e-mail hash that only the public write key ever stated. Anyone can send
    /// <c>identify(userId: "someone-else")</c> with a page's public key; followed from the visitor id, that claim would
    /// hand the account's data to whoever asks for the visitor's (an export) or delete it (an erasure). The other way
    /// round — from an account to the browsers it identified on — is the account owner's own history, and is followed.
    /// </summary>
    private static bool ClaimsAnAccount(string from, string to, bool publicOnly) =>
        publicOnly && from.StartsWith("a:", StringComparison.Ordinal) && (to.StartsWith("u:", StringComparison.Ordinal) || to.StartsWith("e:", StringComparison.Ordinal));

    /// <summary>The subject's rows in every table, as a JSON object per row (ClickHouse's JSONEachRow), table by table.</summary>
    public async IAsyncEnumerable<(string Table, string Json)> ExportAsync(SiteOptions site, SubjectIds ids,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var (table, _) in PersonalTables.All)
        {
            await foreach (var json in database.StreamAsync("subjects.export." + table, statements[table].Export, Parameters(site, ids),
                               r => r.GetString(0), cancellationToken, statementTimeout))
            {
                yield return (table, json);
            }
        }
    }

    /// <summary>How many of the subject's rows each table holds (each row once, however many unmerged copies are stored).</summary>
    public async Task<Dictionary<string, long>> CountAsync(SiteOptions site, SubjectIds ids, CancellationToken cancellationToken)
    {
        var counts = await Task.WhenAll(PersonalTables.All.Select(async t => (t.Table, Rows: (await database.QueryAsync(
            "subjects.count." + t.Table, statements[t.Table].Count, Parameters(site, ids),
            r => Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture), cancellationToken, statementTimeout)).Single())));
        return counts.ToDictionary(c => c.Table, c => c.Rows, StringComparer.Ordinal);
    }

    /// <summary>Deletes the subject's rows from every table that has any, in <see cref="PersonalTables.All"/> order;
    /// returns the rows per table (all tables, zeros included). Running it again deletes nothing more and counts zeros.</summary>
    public async Task<Dictionary<string, long>> EraseAsync(SiteOptions site, SubjectIds ids, CancellationToken cancellationToken)
    {
        var counts = await CountAsync(site, ids, cancellationToken);
        var quarters = counts["events"] > 0
            ? await database.QueryAsync("subjects.quarters", statements["events"].Quarters, Parameters(site, ids),
                r => DateTime.SpecifyKind(r.GetDateTime(0), DateTimeKind.Utc), cancellationToken, statementTimeout)
            : [];
        foreach (var (table, _) in PersonalTables.All)
        {
            if (counts[table] > 0)
            {
                await database.ExecuteAsync("subjects.delete." + table, statements[table].Delete, Parameters(site, ids), DeleteSettings,
                    statementTimeout, cancellationToken);
            }
        }

        if (quarters.Count > 0)
        {
            // The stats report's settled quarter hours the person viewed pages in: their rows hold the person's visitor
            // hash in a set, and their figures counted the deleted events. Rows deleted, quarter hours touched: reports read
            // them raw until the roll-up settles them again without the person.
            var parameters = new ClickHouseParameterCollection();
            parameters.AddParameter("site", site.Id);
            parameters.AddParameter("quarters", quarters.ToArray());
            await database.ExecuteAsync("subjects.delete.stats_quarters", forgetQuarters, parameters, DeleteSettings, statementTimeout, cancellationToken);
            await database.ExecuteAsync("subjects.touch.stats_quarters", StatsQuarters.TouchSql, parameters, EmptySettings, statementTimeout,
                cancellationToken);
        }

        return counts;
    }

    /// <summary>The audit record of a request: no id of the subject, only the hash of the node it was asked by.</summary>
    public async Task<Guid> AuditAsync(SiteOptions site, string action, Subject subject, string key, SubjectIds ids,
        IReadOnlyDictionary<string, long> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(subject);
        var id = Guid.CreateVersion7(time.GetUtcNow());
        var tables = PersonalTables.All.Select(t => t.Table).Where(rows.ContainsKey).ToArray();
        object?[] row =
        [
            id, time.GetUtcNow().UtcDateTime, site.Id, action, subject.Kind, subject.Hash, KeyHash(key), (uint)ids.Nodes.Count,
            (uint)ids.WeakLinksNotFollowed, tables, tables.Select(t => (ulong)rows[t]).ToArray(),
        ];
        await database.InsertAsync("subjects.audit", AuditTable, AuditColumns, AuditTypes, [row], cancellationToken);
        return id;
    }

    /// <summary>Which of the site's server keys asked, without the key: the first 16 hex digits of its SHA-256.</summary>
    public static string KeyHash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];

    private static ClickHouseParameterCollection Parameters(SiteOptions site, SubjectIds ids)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("site", site.Id);
        parameters.AddParameter("nodes", ids.Nodes.ToArray());
        return parameters;
    }

    /// <summary>
    /// Count and export read the logical rows (FINAL: a replayed copy once); the delete takes every stored copy. On a
    /// cluster the delete goes to the shard-local tables on every host (a Distributed table takes no DELETE); reads go
    /// through the Distributed table as reports do.
    /// </summary>
    private static Dictionary<string, (string Count, string Export, string Delete, string Quarters)> Statements(ClickHouseStorageOptions storage) =>
        PersonalTables.All.ToDictionary(t => t.Table, t =>
        {
            var where = $"WHERE site_id = {{site:String}} AND ({t.Where})";
            var target = storage.IsCluster ? $"{t.Table}_local ON CLUSTER {storage.Cluster}" : t.Table;
            return ($"SELECT count() FROM {t.Table} FINAL {where}",
                // 64-bit numbers as strings: a JavaScript reader would round a visitor hash above 2^53.
                $"SELECT formatRowNoNewline('JSONEachRow', *) FROM {t.Table} FINAL {where} SETTINGS output_format_json_quote_64bit_integers = 1",
                $"DELETE FROM {target} {where}",
                // The quarter hours of the stats report's roll-up the subject's page views are in (events only).
                $"SELECT DISTINCT toDateTime(toStartOfFifteenMinutes(timestamp), 'UTC') FROM {t.Table} {where} AND type = 'pageview'");
        }, StringComparer.Ordinal);

    /// <summary>The statements for a storage configuration, for tests of their shape on a cluster the dev stack cannot run.</summary>
    internal static string DeleteStatement(ClickHouseStorageOptions storage, string table) => Statements(storage)[table].Delete;
}
