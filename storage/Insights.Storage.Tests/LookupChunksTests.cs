using System.Net;
using System.Net.Sockets;
using System.Text;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.DevStack.Testing;

namespace Insights.Storage.Tests;

/// <summary>
/// Look-up ids cut by encoded size: the estimate bounds what ClickHouse.Driver really writes into the URL, and the
/// issue's hostile shape (1,000 ids of 250 non-ASCII characters) reads back from the dev stack's real server.
/// </summary>
public sealed class LookupChunksTests(DevStackFixture stack)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // 250 characters as ingest accepts them: Cyrillic (2 UTF-8 bytes), CJK (3), emoji (4, a surrogate pair), and the
    // characters the driver escapes twice (quote, backslash, tab).
    public static TheoryData<string> HostileAlphabets => ["ж", "漢", "😀", "'", "\\", "\t", "a-Z_0.9~", "ж漢😀'\\ x"];

    private static string Id(string alphabet, int index, int length = 250)
    {
        var prefix = index.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
        var builder = new StringBuilder(prefix, length + 8);
        var elements = System.Globalization.StringInfo.GetTextElementEnumerator(alphabet);
        while (builder.Length < length)
        {
            if (!elements.MoveNext())
            {
                elements.Reset();
                elements.MoveNext();
            }

            builder.Append(elements.GetTextElement());
        }

        return builder.ToString();
    }

    [Theory]
    [MemberData(nameof(HostileAlphabets))]
    public async Task The_estimate_bounds_the_parameter_the_driver_puts_in_the_url(string alphabet)
    {
        var ids = Enumerable.Range(0, 40).Select(i => Id(alphabet, i)).ToArray();
        var estimate = 6 + ids.Sum(LookupChunks.EncodedBytes);

        var sent = await SentParameterLengthAsync(ids);

        Assert.InRange(sent, 1, estimate);
        // A bound, not a blanket factor: within 2x of what is sent (ASCII ids are not charged as if they were CJK).
        // Control characters are charged the worst case; ingest refuses them in ids anyway.
        if (!alphabet.Any(char.IsControl))
        {
            Assert.True(estimate <= 2 * sent + 100, $"estimate {estimate} vs {sent} sent");
        }
    }

    [Fact]
    public void Chunks_stay_within_the_budget_keep_every_id_in_order_and_fill_up()
    {
        var ids = HostileAlphabets.SelectMany(a => Enumerable.Range(0, 300).Select(i => Id((string)a.Data, i))).ToList();

        var chunks = LookupChunks.Chunk(ids, LookupChunks.DefaultBudgetBytes).ToList();

        Assert.Equal(ids, chunks.SelectMany(c => c));
        Assert.All(chunks, c => Assert.InRange(6 + c.Sum(LookupChunks.EncodedBytes), 1, LookupChunks.DefaultBudgetBytes));
        // Full chunks: each one but the last would have overflowed with the next id.
        var next = 0;
        foreach (var chunk in chunks.SkipLast(1))
        {
            next += chunk.Length;
            Assert.True(6 + chunk.Sum(LookupChunks.EncodedBytes) + LookupChunks.EncodedBytes(ids[next]) > LookupChunks.DefaultBudgetBytes);
        }
    }

    [Fact]
    public void An_id_larger_than_the_budget_goes_alone_and_nothing_is_lost()
    {
        var huge = new string('漢', 1_000);
        var chunks = LookupChunks.Chunk(["a", huge, "b"], LookupChunks.MinBudgetBytes).ToList();

        Assert.Equal([["a"], [huge], ["b"]], chunks);
    }

    [Fact]
    public async Task A_thousand_ids_of_250_non_ascii_characters_read_back_from_the_server_in_budgeted_chunks()
    {
        var database = await stack.CreateDatabaseAsync("lookup");
        using var client = new ClickHouseClient(stack.ConnectionString(database));
        await client.ExecuteNonQueryAsync("CREATE TABLE visitors (id String) ENGINE = MergeTree ORDER BY id", cancellationToken: Ct);
        var alphabets = new[] { "ж", "漢", "😀", "ж漢😀'\\ x" };
        var ids = Enumerable.Range(0, 1_000).Select(i => Id(alphabets[i % alphabets.Length], i)).ToList();
        await client.InsertBinaryAsync("visitors", ["id"], ids.Select(id => new object[] { id }), cancellationToken: Ct);

        // The old shape: every id in one parameter. The server refuses it, which is what stalled the partitions.
        var whole = await Assert.ThrowsAnyAsync<Exception>(() => CountAsync(client, [.. ids]));
        Assert.Contains("414", whole.Message + whole.InnerException?.Message, StringComparison.Ordinal);

        var found = 0UL;
        var queries = 0;
        foreach (var chunk in LookupChunks.Chunk(ids, LookupChunks.DefaultBudgetBytes))
        {
            found += await CountAsync(client, chunk);
            queries++;
        }

        Assert.Equal(1_000UL, found);
        // As few queries as the budget allows, give or take the id that did not fit at each cut.
        var fewest = (int)Math.Ceiling(ids.Sum(LookupChunks.EncodedBytes) / (double)LookupChunks.DefaultBudgetBytes);
        Assert.InRange(queries, fewest, fewest + (fewest / 10) + 1);
    }

    private static async Task<ulong> CountAsync(ClickHouseClient client, string[] ids)
    {
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("ids", ids);
        return (ulong)(await client.ExecuteScalarAsync("SELECT count() FROM visitors WHERE id IN {ids:Array(String)}", parameters, cancellationToken: Ct))!;
    }

    /// <summary>
    /// The length of <c>param_ids=…</c> in the request line ClickHouse.Driver writes, read by a bare TCP listener that
    /// then answers 500 (the driver throws; only what it sent matters here).
    /// </summary>
    private static async Task<int> SentParameterLengthAsync(string[] ids)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var requestLine = CaptureRequestLineAsync(listener);

        using var client = new ClickHouseClient($"Host=127.0.0.1;Port={port};Username=default;Password=;Compression=false");
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("ids", ids);
        await Assert.ThrowsAnyAsync<Exception>(() => client.ExecuteScalarAsync("SELECT 1 WHERE 'x' IN {ids:Array(String)}", parameters, cancellationToken: Ct));

        var line = await requestLine;
        var start = line.IndexOf("param_ids=", StringComparison.Ordinal);
        Assert.True(start >= 0, line);
        var end = line.IndexOfAny(['&', ' '], start);
        return end - start - "param_ids=".Length;
    }

    private static async Task<string> CaptureRequestLineAsync(TcpListener listener)
    {
        using var socket = await listener.AcceptSocketAsync(Ct);
        var received = new List<byte>();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, Ct);
            if (n == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, n));
            if (Encoding.ASCII.GetString([.. received]).Contains("\r\n", StringComparison.Ordinal))
            {
                break;
            }
        }

        await socket.SendAsync("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), Ct);
        var text = Encoding.ASCII.GetString([.. received]);
        return text[..text.IndexOf("\r\n", StringComparison.Ordinal)];
    }
}
