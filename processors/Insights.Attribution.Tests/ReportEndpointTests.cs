using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Insights.Attribution.Tests.Support;
using Insights.DevStack.Testing;

namespace Insights.Attribution.Tests;

/// <summary>One migrated, empty database and one query API for the tests that only read.</summary>
public sealed class ReportApiFixture(DevStackFixture stack) : IAsyncLifetime
{
    public DevStackPipeline Pipeline { get; private set; } = null!;

    public DevStackPipeline.QueryApi Api { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Pipeline = await DevStackPipeline.CreateAsync(stack);
        Api = Pipeline.StartQueryApi();
        Client = Api.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Api.DisposeAsync();
    }
}

/// <summary>The sales, goals and order endpoints: keys, malformed, oversized and hostile input, empty data, OpenAPI.</summary>
public sealed class ReportEndpointTests(ReportApiFixture fixture) : IClassFixture<ReportApiFixture>
{
    private const string Range = "from=2026-05-01&to=2026-05-02";

    public static TheoryData<string> Endpoints => ["/sales?" + Range, "/goals?" + Range, "/orders/o1", "/orders?" + Range];

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Every_report_needs_a_read_key_of_the_site(string endpoint)
    {
        Assert.Equal("missing_key", await ProblemAsync("/v1/sites/shop" + endpoint, null, HttpStatusCode.Unauthorized));
        Assert.Equal("unknown_key", await ProblemAsync("/v1/sites/shop" + endpoint, "no-such-key-000", HttpStatusCode.Unauthorized));
        Assert.Equal("key_cannot_read", await ProblemAsync("/v1/sites/shop" + endpoint, DevStackPipeline.WriteKey, HttpStatusCode.Forbidden));
        Assert.Equal("site_not_found", await ProblemAsync("/v1/sites/other" + endpoint, DevStackPipeline.ReadKey, HttpStatusCode.NotFound));
    }

    [Theory]
    [InlineData("/sales?" + Range + "&model=last_touch", "model")]
    [InlineData("/sales?" + Range + "&model=last_chat'%20OR%201=1", "model")]
    [InlineData("/sales?" + Range + "&model=%7Bmodel:String%7D", "model")]
    [InlineData("/sales?from=2026-05-01'%20OR%20'1'='1&to=2026-05-02", "from")]
    [InlineData("/sales?from=2026-05-02&to=2026-05-01", "from")]
    [InlineData("/sales?from=2020-01-01&to=2026-05-01", "from")]
    [InlineData("/goals?from=2026-13-01&to=2026-05-02", "from")]
    [InlineData("/goals?from=2026-05-01&to=now()", "to")]
    [InlineData("/orders?" + Range + "&model=last_touch", "model")]
    [InlineData("/orders?" + Range + "&chatted=yes", "chatted")]
    [InlineData("/orders?" + Range + "&chatted=true'%20OR%201=1", "chatted")]
    [InlineData("/orders?" + Range + "&limit=0", "limit")]
    [InlineData("/orders?" + Range + "&limit=101", "limit")]
    [InlineData("/orders?" + Range + "&offset=-1", "offset")]
    [InlineData("/orders?" + Range + "&offset=99999999999999999999", "offset")]
    [InlineData("/orders?from=2026-05-02&to=2026-05-01", "from")]
    [InlineData("/orders/bad%01id", "id")]
    [InlineData("/orders/tab%09id", "id")]
    [InlineData("/orders/line%0Abreak", "id")]
    public async Task Malformed_parameters_are_a_400_naming_them(string endpoint, string parameter)
    {
        using var response = await GetAsync("/v1/sites/shop" + endpoint, DevStackPipeline.ReadKey);
        var problem = await ProblemBodyAsync(response, HttpStatusCode.BadRequest);

        Assert.Equal("invalid_parameters", problem.GetProperty("reason").GetString());
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), problem.ToString());
    }

    [Fact]
    public async Task An_oversized_order_id_is_a_400_and_a_hostile_one_is_simply_not_found()
    {
        using var oversized = await GetAsync("/v1/sites/shop/orders/" + new string('9', 300), DevStackPipeline.ReadKey);
        Assert.Equal("invalid_parameters", (await ProblemBodyAsync(oversized, HttpStatusCode.BadRequest)).GetProperty("reason").GetString());

        foreach (var hostile in new[] { "o1' OR '1'='1", "o1; DROP TABLE orders", "{id:String}", "ünïcødé", "../../etc/passwd" })
        {
            using var response = await GetAsync("/v1/sites/shop/orders/" + Uri.EscapeDataString(hostile), DevStackPipeline.ReadKey);
            Assert.Equal("order_not_found", (await ProblemBodyAsync(response, HttpStatusCode.NotFound)).GetProperty("reason").GetString());
        }

        Assert.Equal(0UL, await fixture.Pipeline.ScalarAsync<ulong>("SELECT count() FROM orders"));
        Assert.Equal(1UL, await fixture.Pipeline.ScalarAsync<ulong>("SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'orders'"));
    }

    [Fact]
    public async Task With_no_data_the_reports_are_zeros_with_every_day_and_every_goal()
    {
        using var sales = await GetAsync("/v1/sites/shop/sales?from=2026-05-01&to=2026-05-04&model=linear", DevStackPipeline.ReadKey);
        var body = JsonSerializer.Deserialize<JsonElement>(await sales.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.OK, sales.StatusCode);
        Assert.Equal(0m, body.GetProperty("revenue").GetDecimal());
        Assert.Equal(0.0, body.GetProperty("conversion").GetProperty("chattedConversionRate").GetDouble());
        Assert.Equal(["2026-05-01", "2026-05-02", "2026-05-03"], body.GetProperty("byDay").EnumerateArray().Select(d => d.GetProperty("date").GetString()));

        using var goals = await GetAsync("/v1/sites/shop/goals?" + Range, DevStackPipeline.ReadKey);
        var goalsBody = JsonSerializer.Deserialize<JsonElement>(await goals.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(["thanks", "chat", "buy", "never"], goalsBody.GetProperty("goals").EnumerateArray().Select(g => g.GetProperty("id").GetString()));
        Assert.All(goalsBody.GetProperty("goals").EnumerateArray(), g => Assert.Equal(0, g.GetProperty("completions").GetInt64()));
        Assert.All(goalsBody.GetProperty("goals").EnumerateArray(), g => Assert.Equal(["2026-05-01"],
            g.GetProperty("series").EnumerateArray().Select(d => d.GetProperty("date").GetString())));

        using var orders = await GetAsync("/v1/sites/shop/orders?" + Range, DevStackPipeline.ReadKey);
        var ordersBody = JsonSerializer.Deserialize<JsonElement>(await orders.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.OK, orders.StatusCode);
        Assert.Equal(0, ordersBody.GetProperty("total").GetInt64());
        Assert.Equal(0, ordersBody.GetProperty("orders").GetArrayLength());
    }

    [Fact]
    public async Task The_openapi_document_describes_the_three_reports()
    {
        using var response = await fixture.Client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken);
        var document = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/v1/sites/{site}/sales", "/v1/sites/{site}/goals", "/v1/sites/{site}/orders/{id}", "/v1/sites/{site}/orders" })
        {
            var get = paths.GetProperty(path).GetProperty("get");
            Assert.True(get.GetProperty("responses").TryGetProperty("200", out _), path);
            Assert.True(get.TryGetProperty("security", out _), path);
        }

        Assert.Contains(paths.GetProperty("/v1/sites/{site}/sales").GetProperty("get").GetProperty("parameters").EnumerateArray(),
            p => p.GetProperty("name").GetString() == "model");
    }

    private async Task<HttpResponseMessage> GetAsync(string url, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return await fixture.Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private async Task<string?> ProblemAsync(string url, string? key, HttpStatusCode status)
    {
        using var response = await GetAsync(url, key);
        return (await ProblemBodyAsync(response, status)).GetProperty("reason").GetString();
    }

    private async Task<JsonElement> ProblemBodyAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}\n{fixture.Api.Log.Text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonSerializer.Deserialize<JsonElement>(body);
    }
}
