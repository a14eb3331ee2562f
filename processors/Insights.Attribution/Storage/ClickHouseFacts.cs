using System.Data.Common;
using System.Globalization;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Attribution.Engine;
using Insights.Storage;

namespace Insights.Attribution.Storage;

/// <summary>
/// Attribution's ClickHouse side: reads the stored facts of the components a batch touches, and writes a batch's
/// output — facts first, then the rows derived from them, so a crash in between is repaired by the replay. Every
/// statement is a constant; sites and ids travel as typed parameters.
/// </summary>
/// <remarks>
/// Reads need no FINAL: a fact's copies are the same fact and the engine keeps each once (links: the strongest).
/// Writes carry no insert-deduplication token on purpose: a retried batch may have loaded more facts than the
/// attempt before it (another consumer wrote some meanwhile), and its rows, with higher versions, must not be
/// dropped as duplicates. Equal rows collapse on merge anyway.
/// </remarks>
public sealed class ClickHouseFacts(ClickHouseClient client, string database, TimeSpan timeout,
    int lookupMaxBytes = LookupChunks.DefaultBudgetBytes) : IFactReader
{
    private const string LinksSql = """
        SELECT id, linked_id, max(strength), argMax(reason, strength), argMax(event_id, strength), min(linked_at)
        FROM identity_links
        WHERE site_id = {site:String} AND id IN {ids:Array(String)}
        GROUP BY id, linked_id
        """;

    private const string ChatEventsSql = """
        SELECT chat_id, event_id, type, timestamp, anonymous_id, user_id, email_hash, agent_id, channel, source, message_author, rating
        FROM chat_events
        WHERE site_id = {site:String} AND chat_id IN {ids:Array(String)}
        """;

    private const string OrderEventsSql = """
        SELECT order_id, event_id, type, timestamp, anonymous_id, user_id, email_hash, amount, currency, coupon, source
        FROM order_events
        WHERE site_id = {site:String} AND order_id IN {ids:Array(String)}
        """;

    public Task<IReadOnlyList<LinkFact>> LinksAsync(string site, IReadOnlyList<string> nodes, CancellationToken cancellationToken) =>
        QueryAsync(LinksSql, site, nodes, r => new LinkFact(site, r.GetString(0), r.GetString(1), (LinkStrength)Convert.ToByte(r.GetValue(2), CultureInfo.InvariantCulture),
            r.GetString(3), r.GetString(4), r.GetDateTime(5)), cancellationToken);

    public Task<IReadOnlyList<ChatEventFact>> ChatEventsAsync(string site, IReadOnlyList<string> chatIds, CancellationToken cancellationToken) =>
        QueryAsync(ChatEventsSql, site, chatIds, r => new ChatEventFact(site, r.GetString(0), r.GetString(1), r.GetString(2), r.GetDateTime(3),
            r.GetString(4), r.GetString(5), r.GetString(6), r.GetString(7), r.GetString(8), r.GetString(9), r.GetString(10),
            r.IsDBNull(11) ? null : Convert.ToInt32(r.GetValue(11), CultureInfo.InvariantCulture)), cancellationToken);

    public Task<IReadOnlyList<OrderEventFact>> OrderEventsAsync(string site, IReadOnlyList<string> orderIds, CancellationToken cancellationToken) =>
        QueryAsync(OrderEventsSql, site, orderIds, r => new OrderEventFact(site, r.GetString(0), r.GetString(1), r.GetString(2), r.GetDateTime(3),
            r.GetString(4), r.GetString(5), r.GetString(6), Convert.ToDecimal(r.GetValue(7), CultureInfo.InvariantCulture), r.GetString(8),
            r.GetString(9), r.GetString(10)), cancellationToken);

    /// <summary>Writes a batch's output: the facts (in parallel), then the derived rows (in parallel). Returns rows per table.</summary>
    public async Task<Dictionary<string, int>> WriteAsync(AttributionOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var written = new Dictionary<string, int>(StringComparer.Ordinal);
        await Task.WhenAll(
            InsertAsync(Tables.IdentityLinks, output.Links.SelectMany(l => new[] { (l, false), (l, true) }).ToList(), written, cancellationToken),
            InsertAsync(Tables.ChatEvents, output.ChatEvents, written, cancellationToken),
            InsertAsync(Tables.OrderEvents, output.OrderEvents, written, cancellationToken));
        await Task.WhenAll(
            InsertAsync(Tables.Identities, output.Identities, written, cancellationToken),
            InsertAsync(Tables.Chats, output.Chats, written, cancellationToken),
            InsertAsync(Tables.Orders, output.Orders, written, cancellationToken),
            InsertAsync(Tables.Credits, output.Credits, written, cancellationToken),
            InsertAsync(Tables.GoalCompletions, output.GoalCompletions, written, cancellationToken));
        return written;
    }

    private async Task InsertAsync<TRow>(Table<TRow> table, IReadOnlyList<TRow> rows, Dictionary<string, int> written, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        await client.InsertBinaryAsync(table.Name, table.Columns, rows.Select(table.Row), new InsertOptions
        {
            Database = database,
            ColumnTypes = table.ColumnTypes,
            Compressor = client.InsertCompressor(),
            BatchSize = Math.Max(rows.Count, 1),
        }, deadline.Token);
        lock (written)
        {
            written[table.Name] = rows.Count;
        }
    }

    private async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, string site, IReadOnlyList<string> ids, Func<DbDataReader, T> map,
        CancellationToken cancellationToken)
    {
        var results = new List<T>();
        // The ids ride in the URL: cut by their encoded size, so no id length or alphabet can make a query the server refuses.
        foreach (var chunk in LookupChunks.Chunk(ids, lookupMaxBytes))
        {
            var parameters = new ClickHouseParameterCollection();
            parameters.AddParameter("site", site);
            parameters.AddParameter("ids", chunk);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            using var reader = await client.ExecuteReaderAsync(sql, parameters, new QueryOptions { Database = database, MaxExecutionTime = timeout }, deadline.Token);
            while (await reader.ReadAsync(deadline.Token))
            {
                results.Add(map(reader));
            }
        }

        return results;
    }
}
