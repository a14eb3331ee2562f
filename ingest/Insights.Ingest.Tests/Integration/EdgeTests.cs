using System.Net;
using System.Text.Json;
using Insights.DevStack.Testing;

namespace Insights.Ingest.Tests.Integration;

/// <summary>What browsers, operators and API readers meet besides the events themselves.</summary>
public sealed class EdgeTests(RefusalHost fixture) : IClassFixture<RefusalHost>
{
    private IngestHost Host => fixture.Host;

    [Fact]
    public async Task Browsers_on_any_origin_may_send_after_a_cached_preflight()
    {
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/events");
        preflight.Headers.Add("Origin", "https://any-customer-shop.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type,x-insights-key");
        var response = await Host.Client.SendAsync(preflight, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Contains("X-Insights-Key", response.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("7200", Assert.Single(response.Headers.GetValues("Access-Control-Max-Age")));

        var post = await Host.PostAsync("""{"type":"track","event":"x","anonymousId":"v"}""",
            configure: request => request.Headers.Add("Origin", "https://any-customer-shop.example"));
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        Assert.Equal("*", Assert.Single(post.Headers.GetValues("Access-Control-Allow-Origin")));
    }

    [Fact]
    public async Task The_openapi_document_and_the_reference_page_describe_the_endpoint()
    {
        var json = await Host.Client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        var post = JsonDocument.Parse(json).RootElement.GetProperty("paths").GetProperty("/v1/events").GetProperty("post");
        Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/x-ndjson", out _));
        foreach (var status in new[] { "202", "400", "401", "403", "413", "429", "503" })
        {
            Assert.True(post.GetProperty("responses").TryGetProperty(status, out _), $"The document does not describe {status}.");
        }

        var docs = await Host.Client.GetAsync("/docs/", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Equal("text/html", docs.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Readiness_includes_kafka_and_metrics_count_events_by_outcome()
    {
        await Host.PostAsync("""[{"type":"track","event":"x","anonymousId":"v"},{"type":"track","anonymousId":"v"}]""");

        var ready = await Host.Client.GetAsync("/readyz", TestContext.Current.CancellationToken);
        var health = JsonDocument.Parse(await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("kafka").GetProperty("status").GetString());

        var metrics = await Host.Client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("insights_ingest_events_accepted_total", metrics, StringComparison.Ordinal);
        Assert.Contains(metrics.Split('\n'), line =>
            line.StartsWith("insights_ingest_events_rejected_total{", StringComparison.Ordinal) && line.Contains("reason=\"missing_event_name\"", StringComparison.Ordinal));
        Assert.Contains("insights_ingest_request_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("insights_ingest_delivery_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("insights_ingest_producer_queue_depth", metrics, StringComparison.Ordinal);
    }
}
