using System.Net;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Compression;
using ClickHouse.Driver.Utility;
using Insights.DevStack.Testing;

namespace Insights.DevStack.Tests.ClickHouse;

/// <summary>ClickHouse.Driver 1.5.0, unmodified, against the dev stack's ClickHouse HTTP interface.</summary>
public sealed class ClickHouseDriverTests(DevStackFixture stack) : IAsyncLifetime
{
    private ClickHouseClient client = null!;
    private string database = "";

    public async ValueTask InitializeAsync()
    {
        database = await stack.CreateDatabaseAsync("driver");
        client = new ClickHouseClient(stack.ConnectionString(database));
    }

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Modern_types_round_trip_through_ddl_binary_insert_and_reader()
    {
        await client.ExecuteNonQueryAsync("""
            CREATE TABLE visits (
                event_id UUID,
                at DateTime64(3, 'UTC'),
                site LowCardinality(String),
                ip4 IPv4,
                ip6 IPv6,
                revenue Decimal(18, 4),
                props Map(String, String),
                tags Array(String),
                referrer Nullable(String),
                kind Enum8('pageview' = 1, 'track' = 2)
            ) ENGINE = MergeTree
            PARTITION BY toYYYYMM(at)
            ORDER BY (site, at)
            TTL toDateTime(at) + INTERVAL 400 DAY
            """, cancellationToken: Ct);

        var id = Guid.NewGuid();
        var at = new DateTime(2026, 11, 26, 10, 30, 15, 123, DateTimeKind.Utc);
        var row = new object[]
        {
            id, at, "demo.example", IPAddress.Parse("139.48.1.1"), IPAddress.Parse("2001:db8::1"), 1234.5678m,
            new Dictionary<string, string> { ["plan"] = "pro", ["q"] = "it's \"quoted\"" },
            new[] { "a", "b" }, null!, "track",
        };
        var columns = new[] { "event_id", "at", "site", "ip4", "ip6", "revenue", "props", "tags", "referrer", "kind" };
        var types = new Dictionary<string, string>
        {
            ["event_id"] = "UUID", ["at"] = "DateTime64(3, 'UTC')", ["site"] = "LowCardinality(String)", ["ip4"] = "IPv4",
            ["ip6"] = "IPv6", ["revenue"] = "Decimal(18, 4)", ["props"] = "Map(String, String)", ["tags"] = "Array(String)",
            ["referrer"] = "Nullable(String)", ["kind"] = "Enum8('pageview' = 1, 'track' = 2)",
        };

        var written = await client.InsertBinaryAsync("visits", columns, [row], new InsertOptions { ColumnTypes = types }, Ct);

        Assert.Equal(1, written);
        using var reader = await client.ExecuteReaderAsync("SELECT * FROM visits", cancellationToken: Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal(id, reader.GetGuid(0));
        Assert.Equal(at, ((DateTime)reader.GetValue(1)).ToUniversalTime());
        Assert.Equal("demo.example", reader.GetString(2));
        Assert.Equal(IPAddress.Parse("139.48.1.1"), reader.GetValue(3));
        Assert.Equal(IPAddress.Parse("2001:db8::1"), reader.GetValue(4));
        Assert.Equal(1234.5678m, reader.GetDecimal(5));
        var props = Assert.IsType<Dictionary<string, string>>(reader.GetValue(6));
        Assert.Equal("it's \"quoted\"", props["q"]);
        Assert.Equal(["a", "b"], (string[])reader.GetValue(7));
        Assert.True(reader.IsDBNull(8));
        Assert.Equal("track", reader.GetString(9));
        Assert.False(await reader.ReadAsync(Ct));
    }

    public static TheoryData<string> Compressors => ["none", "gzip", "zstd", "lz4", "brotli"];

    [Theory]
    [MemberData(nameof(Compressors))]
    public async Task Binary_insert_works_with_every_compression_the_driver_offers(string compression)
    {
        IClickHouseCompressor? compressor = compression switch
        {
            "gzip" => GZipCompressor.Default,
            "zstd" => ZstdCompressor.Default,
            "lz4" => Lz4Compressor.Default,
            "brotli" => BrotliCompressor.Default,
            _ => null,
        };
        var table = $"c_{compression}";
        await client.ExecuteNonQueryAsync($"CREATE TABLE {table} (n UInt64, s String) ENGINE = MergeTree ORDER BY n", cancellationToken: Ct);
        var rows = Enumerable.Range(0, 20_000).Select(i => new object[] { (ulong)i, $"row {i} \n\t'\"" });

        var written = await client.InsertBinaryAsync(table, ["n", "s"], rows,
            new InsertOptions { Compressor = compressor, BatchSize = 7_000, ColumnTypes = new Dictionary<string, string> { ["n"] = "UInt64", ["s"] = "String" } }, Ct);

        Assert.Equal(20_000, written);
        Assert.Equal(20_000UL, await client.ExecuteScalarAsync($"SELECT count() FROM {table}", cancellationToken: Ct));
        Assert.Equal(199_990_000UL, await client.ExecuteScalarAsync($"SELECT sum(n) FROM {table}", cancellationToken: Ct));
        Assert.Equal("row 19999 \n\t'\"", await client.ExecuteScalarAsync($"SELECT s FROM {table} WHERE n = 19999", cancellationToken: Ct));
    }

    [Fact]
    public async Task Insert_without_explicit_types_asks_the_server_for_the_schema()
    {
        await client.ExecuteNonQueryAsync("CREATE TABLE schemaless (a Int32, b String) ENGINE = Memory", cancellationToken: Ct);

        var written = await client.InsertBinaryAsync("schemaless", ["a", "b"], [[1, "x"], [2, "y"]], cancellationToken: Ct);

        Assert.Equal(2, written);
        Assert.Equal(3L, Convert.ToInt64(await client.ExecuteScalarAsync("SELECT sum(a) FROM schemaless", cancellationToken: Ct)));
    }

    public static TheoryData<string> HostileStrings =>
    [
        "'; DROP TABLE guard; --",
        "\\' OR 1=1 --",
        "back\\slash\ttab\nnewline\r\n",
        "{x:String} ${injection} %s %d",
        "ünïcødé 日本語 🎉",
        "\"double\" `backtick`",
        new string('x', 100_000),
    ];

    [Theory]
    [MemberData(nameof(HostileStrings))]
    public async Task Parameters_are_bound_by_the_engine_and_come_back_byte_for_byte(string hostile)
    {
        await client.ExecuteNonQueryAsync("CREATE TABLE guard (s String) ENGINE = Memory", cancellationToken: Ct);
        await client.InsertBinaryAsync("guard", ["s"], [[hostile]], cancellationToken: Ct);
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("s", hostile);

        var echoed = await client.ExecuteScalarAsync("SELECT {s:String}", parameters, cancellationToken: Ct);
        var matches = await client.ExecuteScalarAsync("SELECT count() FROM guard WHERE s = {s:String}", parameters, cancellationToken: Ct);

        Assert.Equal(hostile, echoed);
        Assert.Equal(1UL, matches);
        Assert.Equal(1UL, await client.ExecuteScalarAsync("SELECT count() FROM guard", cancellationToken: Ct));
    }

    [Fact]
    public async Task Typed_parameters_filter_on_the_server()
    {
        await client.ExecuteNonQueryAsync("CREATE TABLE p (at DateTime64(3, 'UTC'), n UInt32, ip IPv4) ENGINE = Memory", cancellationToken: Ct);
        await client.InsertBinaryAsync("p", ["at", "n", "ip"],
        [
            [new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), 1u, IPAddress.Parse("10.0.0.1")],
            [new DateTime(2026, 2, 1, 0, 0, 0, DateTimeKind.Utc), 2u, IPAddress.Parse("10.0.0.2")],
            [new DateTime(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc), 3u, IPAddress.Parse("10.0.0.3")],
        ], cancellationToken: Ct);
        var parameters = new ClickHouseParameterCollection();
        parameters.AddParameter("from", new DateTime(2026, 1, 15, 0, 0, 0, DateTimeKind.Utc));
        parameters.AddParameter("ids", new[] { 2u, 3u });

        var sum = await client.ExecuteScalarAsync(
            "SELECT sum(n) FROM p WHERE at >= {from:DateTime64(3, 'UTC')} AND n IN {ids:Array(UInt32)}", parameters, cancellationToken: Ct);

        Assert.Equal(5UL, sum);
    }

    private sealed class PageRow
    {
        public string Path { get; set; } = "";

        public ulong Views { get; set; }
    }

    [Fact]
    public async Task QueryAsync_maps_rows_to_objects()
    {
        await client.ExecuteNonQueryAsync("CREATE TABLE pv (path String) ENGINE = Memory", cancellationToken: Ct);
        await client.InsertBinaryAsync("pv", ["path"], [["/pricing"], ["/pricing"], ["/"]], cancellationToken: Ct);

        client.RegisterPocoType<PageRow>();
        var rows = new List<PageRow>();
        await foreach (var row in client.QueryAsync<PageRow>(
                           "SELECT path AS Path, count() AS Views FROM pv GROUP BY path ORDER BY Views DESC", cancellationToken: Ct))
        {
            rows.Add(row);
        }

        Assert.Collection(rows,
            r => Assert.Equal(("/pricing", 2UL), (r.Path, r.Views)),
            r => Assert.Equal(("/", 1UL), (r.Path, r.Views)));
    }

    [Theory]
    [InlineData("SELECT * FROM no_such_table", 60)]
    [InlineData("SELEC 1", 62)]
    [InlineData("SELECT 1; SELECT 2", 62)]
    [InlineData("SELECT throwIf(1, 'boom')", 395)]
    [InlineData("SELECT toUInt8('not a number')", 6)]
    public async Task Errors_surface_as_ClickHouseServerException_with_the_real_code(string sql, int code)
    {
        var error = await Assert.ThrowsAsync<ClickHouseServerException>(() => client.ExecuteScalarAsync(sql, cancellationToken: Ct));

        Assert.Equal(code, error.ErrorCode);
        Assert.Contains($"Code: {code}.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_apply_to_their_own_request_only()
    {
        var options = new QueryOptions { CustomSettings = new Dictionary<string, object> { ["max_threads"] = 3 } };

        var withSetting = await client.ExecuteScalarAsync("SELECT getSetting('max_threads')", null, options, Ct);
        var without = await client.ExecuteScalarAsync("SELECT getSetting('max_threads')", cancellationToken: Ct);

        Assert.Equal(3UL, Convert.ToUInt64(withSetting));
        Assert.NotEqual(3UL, Convert.ToUInt64(without));
    }

    [Fact]
    public async Task An_unknown_setting_is_refused_with_its_name()
    {
        var options = new QueryOptions { CustomSettings = new Dictionary<string, object> { ["no_such_setting"] = 1 } };

        var error = await Assert.ThrowsAsync<ClickHouseServerException>(
            () => client.ExecuteScalarAsync("SELECT 1", null, options, Ct));

        Assert.Equal(115, error.ErrorCode);
        Assert.Contains("no_such_setting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sessions_keep_temporary_tables_between_requests()
    {
        using var sessionClient = new ClickHouseClient(stack.ConnectionString(database) + ";UseSession=true");

        await sessionClient.ExecuteNonQueryAsync("CREATE TEMPORARY TABLE scratch (n UInt8)", cancellationToken: Ct);
        await sessionClient.ExecuteNonQueryAsync("INSERT INTO scratch VALUES (7), (8)", cancellationToken: Ct);

        Assert.Equal(15UL, await sessionClient.ExecuteScalarAsync("SELECT sum(n) FROM scratch", cancellationToken: Ct));
        var elsewhere = await Assert.ThrowsAsync<ClickHouseServerException>(
            () => client.ExecuteScalarAsync("SELECT sum(n) FROM scratch", cancellationToken: Ct));
        Assert.Equal(60, elsewhere.ErrorCode);
    }

    [Fact]
    public async Task Concurrent_inserts_and_selects_give_exact_totals()
    {
        await client.ExecuteNonQueryAsync("CREATE TABLE totals (writer UInt8, n UInt64) ENGINE = MergeTree ORDER BY (writer, n)", cancellationToken: Ct);
        const int writers = 6, batches = 10, rowsPerBatch = 2_000;
        var types = new Dictionary<string, string> { ["writer"] = "UInt8", ["n"] = "UInt64" };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            var reads = 0;
            ulong last = 0;
            while (!stop.IsCancellationRequested)
            {
                var count = (ulong)(await client.ExecuteScalarAsync("SELECT count() FROM totals", cancellationToken: Ct))!;
                Assert.True(count >= last, "a count never goes backwards");
                Assert.Equal(0UL, count % rowsPerBatch); // batches land whole
                last = count;
                reads++;
            }

            return reads;
        }, Ct)).ToArray();

        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var b = 0; b < batches; b++)
            {
                var rows = Enumerable.Range(b * rowsPerBatch, rowsPerBatch).Select(i => new object[] { (byte)w, (ulong)i });
                await client.InsertBinaryAsync("totals", ["writer", "n"], rows, new InsertOptions { ColumnTypes = types }, Ct);
            }
        }, Ct)));
        await stop.CancelAsync();
        var reads = await Task.WhenAll(readers);

        const ulong perWriter = (ulong)batches * rowsPerBatch;
        Assert.Equal(writers * perWriter, await client.ExecuteScalarAsync("SELECT count() FROM totals", cancellationToken: Ct));
        Assert.Equal(writers * (perWriter * (perWriter - 1) / 2), await client.ExecuteScalarAsync("SELECT sum(n) FROM totals", cancellationToken: Ct));
        Assert.All(reads, r => Assert.True(r > 0));
    }

    [Fact]
    public async Task A_large_result_is_streamed_to_the_end()
    {
        const long rows = 3_000_000;
        using var reader = await client.ExecuteReaderAsync(
            $"SELECT number, toString(number) FROM numbers({rows})", cancellationToken: Ct);

        long count = 0, sum = 0;
        while (await reader.ReadAsync(Ct))
        {
            var n = (long)(ulong)reader.GetValue(0);
            Assert.True(count != n || reader.GetString(1) == n.ToString(System.Globalization.CultureInfo.InvariantCulture));
            sum += n;
            count++;
        }

        Assert.Equal(rows, count);
        Assert.Equal(rows * (rows - 1) / 2, sum);
    }

    [Fact]
    public async Task An_error_after_rows_were_sent_is_reported_not_swallowed()
    {
        using var reader = await client.ExecuteReaderAsync(
            "SELECT throwIf(number = 2500000, 'late failure') FROM numbers(3000000) SETTINGS max_block_size = 65536", cancellationToken: Ct);

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            while (await reader.ReadAsync(Ct))
            {
            }
        });

        var server = Assert.IsType<ClickHouseServerException>(error);
        Assert.Contains("late failure", server.Message, StringComparison.Ordinal);
    }
}
