using System.Net.Http.Headers;
using System.Text.Json;
using Insights.DevStack.Testing;

namespace Insights.DevStack.Tests.ClickHouse;

/// <summary>Results that span many engine chunks come out as one well-formed document in every format.</summary>
public sealed class ClickHouseHttpFormatTests(DevStackFixture stack) : IDisposable
{
    private const int Rows = 300_000; // several engine chunks
    private readonly HttpClient http = new() { BaseAddress = new Uri(stack.ClickHouseUrl) };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("TSVWithNamesAndTypes", 2)]
    [InlineData("CSVWithNames", 0)]
    [InlineData("TSV", 0)]
    public async Task A_multi_chunk_text_result_has_one_header(string format, int headerLines)
    {
        var text = await Query($"SELECT number AS n FROM numbers({Rows}) FORMAT {format}");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var expectedHeader = format.StartsWith("CSV", StringComparison.Ordinal) ? 1 : headerLines;
        Assert.Equal(Rows + expectedHeader, lines.Length);
        Assert.Equal((Rows - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), lines[^1]);
    }

    [Fact]
    public async Task A_multi_chunk_json_result_is_one_valid_document()
    {
        using var document = JsonDocument.Parse(await Query($"SELECT number AS n FROM numbers({Rows}) FORMAT JSON"));

        Assert.Equal(Rows, document.RootElement.GetProperty("data").GetArrayLength());
        Assert.Equal(Rows, document.RootElement.GetProperty("rows").GetInt32());
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    [InlineData("br")]
    [InlineData("deflate")]
    public async Task Responses_are_compressed_when_the_client_asks(string encoding)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/?enable_http_compression=1")
        {
            Content = new StringContent($"SELECT number FROM numbers({Rows}) FORMAT TSV"),
        };
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue(encoding));

        using var response = await http.SendAsync(request, Ct);

        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal(encoding, response.Content.Headers.ContentEncoding.Single());
        var compressed = await response.Content.ReadAsByteArrayAsync(Ct);
        var plain = System.Text.Encoding.UTF8.GetByteCount(await Query($"SELECT number FROM numbers({Rows}) FORMAT TSV"));
        Assert.True(compressed.Length < plain * 0.7, $"{compressed.Length} of {plain} bytes is not compressed");
    }

    public void Dispose() => http.Dispose();

    private async Task<string> Query(string sql)
    {
        using var response = await http.PostAsync(new Uri("/", UriKind.Relative), new StringContent(sql), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, body);
        return body;
    }
}
