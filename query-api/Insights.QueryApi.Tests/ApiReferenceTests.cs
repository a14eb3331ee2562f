using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Insights.DevStack.Testing;
using Insights.QueryApi.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Insights.QueryApi.Tests;

/// <summary>What a developer integrating the API sees: the OpenAPI document, the reference page, the metrics.</summary>
public sealed class ApiReferenceTests(DevStackFixture stack)
{
    [Fact]
    public async Task The_openapi_document_describes_the_stats_endpoint_its_keys_and_its_errors()
    {
        await using var api = new QueryApiFactory(TestSites.Settings(stack.ConnectionString(), "insights"));

        using var response = await api.CreateClient().RequestAsync("/openapi/v1.json");
        var document = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(Http.Ct));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var get = document.GetProperty("paths").GetProperty("/v1/sites/{site}/stats").GetProperty("get");
        Assert.Equal(["campaign", "channel", "company", "compare", "country", "from", "include", "interval", "limit", "page", "referrer", "site", "to"],
            get.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).Order());
        Assert.Equal(["200", "400", "401", "403", "404", "503"], get.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order());
        Assert.Contains("StatsResponse", get.GetProperty("responses").GetProperty("200").ToString(), StringComparison.Ordinal);
        Assert.Equal(["Bearer", "ReadKey"], get.GetProperty("security").EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).Order());
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("Bearer").GetProperty("scheme").GetString());
        Assert.Equal("X-Insights-Key", schemes.GetProperty("ReadKey").GetProperty("name").GetString());
        Assert.Equal("header", schemes.GetProperty("ReadKey").GetProperty("in").GetString());
    }

    [Fact]
    public async Task The_openapi_document_describes_export_and_erasure_their_body_the_server_key_and_ndjson()
    {
        await using var api = new QueryApiFactory(TestSites.Settings(stack.ConnectionString(), "insights"));

        using var response = await api.CreateClient().RequestAsync("/openapi/v1.json");
        var paths = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(Http.Ct)).GetProperty("paths");

        foreach (var action in new[] { "export", "erase" })
        {
            var post = paths.GetProperty($"/v1/sites/{{site}}/subjects/{action}").GetProperty("post");
            Assert.Equal(["200", "400", "401", "403", "404", "413", "422", "503"], post.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order());
            Assert.Equal(["Bearer", "ReadKey"], post.GetProperty("security").EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).Order());
            Assert.Contains("SubjectBody", post.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").ToString(), StringComparison.Ordinal);
            Assert.Contains("server key", post.GetProperty("description").GetString(), StringComparison.Ordinal);
        }

        var export = paths.GetProperty("/v1/sites/{site}/subjects/export").GetProperty("post");
        Assert.True(export.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("application/x-ndjson", out _));
        var erase = paths.GetProperty("/v1/sites/{site}/subjects/erase").GetProperty("post");
        Assert.Contains("SubjectErasure", erase.GetProperty("responses").GetProperty("200").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_reference_page_is_served_with_its_script_from_the_api_itself()
    {
        await using var api = new QueryApiFactory(TestSites.Settings(stack.ConnectionString(), "insights"));
        var client = api.CreateClient();

        using var page = await client.RequestAsync("/docs");
        var html = await page.Content.ReadAsStringAsync(Http.Ct);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Insights query API", html, StringComparison.Ordinal);
        var script = System.Text.RegularExpressions.Regex.Match(html, "<script[^>]+src=\"([^\"]+)\"").Groups[1].Value;
        Assert.False(script.StartsWith("http", StringComparison.Ordinal), $"the page loads its script from elsewhere: {script}");
        using var scriptResponse = await client.RequestAsync(new Uri(new Uri("http://localhost/docs/"), script).PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, scriptResponse.StatusCode);
    }

    [Fact]
    public async Task Query_latency_is_measured_by_endpoint_and_status_and_exported()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await using var api = db.StartApi();
        var client = api.CreateClient();
        using var latency = new MetricRecorder(api.Services.GetRequiredService<IMeterFactory>(), "insights.queryapi.query.duration");
        using var statements = new MetricRecorder(api.Services.GetRequiredService<IMeterFactory>(), "insights.queryapi.statement.duration");

        await client.StatsAsync("?from=2026-05-01&to=2026-05-02");
        using var denied = await client.RequestAsync("/v1/sites/shop/stats", bearer: TestSites.ShopWrite);
        using var metrics = await client.RequestAsync("/metrics");
        var exported = await metrics.Content.ReadAsStringAsync(Http.Ct);

        Assert.Contains(latency.Measurements, m => Equals(m.Tags["endpoint"], "stats") && Equals(m.Tags["status"], 200));
        Assert.Contains(latency.Measurements, m => Equals(m.Tags["endpoint"], "stats") && Equals(m.Tags["status"], 403));
        Assert.Contains("insights_queryapi_query_duration_seconds_bucket", exported, StringComparison.Ordinal);

        // Each statement of the report is timed on its own, by its name.
        var names = statements.Measurements.Select(m => (string)m.Tags["statement"]!).ToHashSet();
        Assert.Contains("stats.visits", names);
        Assert.Contains("stats.breakdowns", names);
        Assert.All(statements.Measurements, m => Assert.True(m.Value > 0));
        Assert.Contains("insights_queryapi_statement_duration_seconds_bucket{", exported, StringComparison.Ordinal);
        Assert.Contains("statement=\"stats.breakdowns\"", exported, StringComparison.Ordinal);
    }
}
