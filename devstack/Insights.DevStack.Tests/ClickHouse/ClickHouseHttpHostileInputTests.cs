using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using ClickHouse.Driver;
using Insights.DevStack.Testing;

namespace Insights.DevStack.Tests.ClickHouse;

/// <summary>What a raw HTTP client can throw at the dev stack's ClickHouse interface, and what it must answer.</summary>
public sealed class ClickHouseHttpHostileInputTests(DevStackFixture stack) : IAsyncLifetime
{
    private readonly HttpClient http = new() { BaseAddress = new Uri(stack.ClickHouseUrl) };
    private string database = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        database = await stack.CreateDatabaseAsync("hostile");
        await Sql($"CREATE TABLE {database}.t (n UInt32, s String) ENGINE = MergeTree ORDER BY n");
    }

    public ValueTask DisposeAsync()
    {
        http.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Garbage_insert_data_is_refused_and_nothing_is_written()
    {
        var body = Encoding.ASCII.GetBytes($"INSERT INTO {database}.t (n, s) FORMAT RowBinary\n")
            .Concat(new byte[] { 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x41 }).ToArray();

        using var response = await http.PostAsync(new Uri("/", UriKind.Relative), new ByteArrayContent(body), Ct);

        Assert.False(response.IsSuccessStatusCode);
        Assert.True(response.Headers.Contains("X-ClickHouse-Exception-Code"));
        Assert.Equal("0", (await Sql($"SELECT count() FROM {database}.t")).Trim());
    }

    [Fact]
    public async Task A_body_cut_off_mid_insert_commits_nothing_and_the_server_goes_on()
    {
        var queryId = Guid.NewGuid().ToString();
        var header = Encoding.ASCII.GetBytes(
            $"POST /?query_id={queryId}&query={Uri.EscapeDataString($"INSERT INTO {database}.t (n, s) FORMAT TSV")} HTTP/1.1\r\n" +
            "Host: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n");
        var rows = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 1000).Select(i => $"{i}\trow\n")));
        var uri = new Uri(stack.ClickHouseUrl);
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(uri.Host, uri.Port, Ct);
            var stream = socket.GetStream();
            await stream.WriteAsync(header, Ct);
            await stream.WriteAsync(rows, Ct);
            await stream.FlushAsync(Ct);
        } // closed with 990 KB of the promised body missing

        await WaitUntil(async () => !(await RunningQueries()).Contains(queryId));
        Assert.Equal("0", (await Sql($"SELECT count() FROM {database}.t")).Trim());
        Assert.Equal("1", (await Sql("SELECT 1")).Trim());
    }

    [Fact]
    public async Task An_unknown_content_encoding_is_refused_by_name()
    {
        using var content = new StringContent("SELECT 1");
        content.Headers.ContentEncoding.Add("snappy");

        using var response = await http.PostAsync(new Uri("/", UriKind.Relative), content, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("snappy", body, StringComparison.Ordinal);
        Assert.Equal("89", response.Headers.GetValues("X-ClickHouse-Exception-Code").Single());
    }

    [Fact]
    public async Task A_gzip_body_that_is_not_gzip_gets_an_error_not_a_crash()
    {
        using var content = new ByteArrayContent("SELECT 1 definitely not gzip"u8.ToArray());
        content.Headers.ContentEncoding.Add("gzip");

        using var response = await http.PostAsync(new Uri("/", UriKind.Relative), content, Ct);

        Assert.False(response.IsSuccessStatusCode);
        Assert.True(response.Headers.Contains("X-ClickHouse-Exception-Code"));
        Assert.Equal("1", (await Sql("SELECT 1")).Trim());
    }

    [Fact]
    public async Task A_huge_query_is_refused_with_a_syntax_error()
    {
        var huge = "SELECT " + string.Join("+", Enumerable.Repeat("1", 2_000_000));

        using var response = await http.PostAsync(new Uri("/", UriKind.Relative), new StringContent(huge), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("Code: 62.", body, StringComparison.Ordinal);
        Assert.Contains("Max query size exceeded", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELECT 1; DROP TABLE {db}.t")]
    [InlineData("SELECT 1;\nINSERT INTO {db}.t VALUES (1, 'x')")]
    public async Task A_second_statement_is_never_run(string sql)
    {
        using var response = await http.PostAsync(new Uri("/", UriKind.Relative), new StringContent(sql.Replace("{db}", database, StringComparison.Ordinal)), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("62", response.Headers.GetValues("X-ClickHouse-Exception-Code").Single());
        Assert.Equal("0", (await Sql($"SELECT count() FROM {database}.t")).Trim());
    }

    [Fact]
    public async Task A_get_request_cannot_write()
    {
        var query = Uri.EscapeDataString($"INSERT INTO {database}.t SELECT 1, 'x'");

        using var response = await http.GetAsync(new Uri($"/?query={query}", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("164", response.Headers.GetValues("X-ClickHouse-Exception-Code").Single());
        Assert.Equal("0", (await Sql($"SELECT count() FROM {database}.t")).Trim());
    }

    [Fact]
    public async Task Wrong_credentials_are_refused()
    {
        using var client = new ClickHouseClient(stack.ConnectionString().Replace("Password=", "Password=guess", StringComparison.Ordinal));

        var error = await Assert.ThrowsAsync<ClickHouseServerException>(() => client.ExecuteScalarAsync("SELECT 1", cancellationToken: Ct));

        Assert.Equal(516, error.ErrorCode);
    }

    [Fact]
    public async Task A_client_that_leaves_mid_result_cancels_the_engine_query()
    {
        var query = Uri.EscapeDataString("SELECT number, repeat('x', 100) FROM numbers(100000000) FORMAT RowBinary");
        var queryId = Guid.NewGuid().ToString();
        using (var response = await http.GetAsync(new Uri($"/?query_id={queryId}&query={query}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync(Ct);
            var buffer = new byte[64 * 1024];
            Assert.True(await body.ReadAsync(buffer, Ct) > 0);
            Assert.Contains(queryId, await RunningQueries()); // running while its result is read
        } // disposed: the connection closes with ~10 GB of result unread

        await WaitUntil(async () => !(await RunningQueries()).Contains(queryId));
        Assert.Equal("1", (await Sql("SELECT 1")).Trim());
    }

    [Fact]
    public async Task Ping_and_root_answer_ok()
    {
        Assert.Equal("Ok.\n", await http.GetStringAsync(new Uri("/ping", UriKind.Relative), Ct));
        Assert.Equal("Ok.\n", await http.GetStringAsync(new Uri("/", UriKind.Relative), Ct));
    }

    private async Task<string> Sql(string sql)
    {
        using var response = await http.PostAsync(new Uri("/", UriKind.Relative), new StringContent(sql), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, body);
        return body;
    }

    private async Task<string[]> RunningQueries()
    {
        var stats = await http.GetFromJsonAsync<Stats>(new Uri("/_devstack/stats", UriKind.Relative), Ct);
        return stats!.RunningQueries;
    }

    private static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 15 s");
            await Task.Delay(50, Ct);
        }
    }

    private sealed record Stats(int OpenConnections, int Sessions, string[] RunningQueries);
}
