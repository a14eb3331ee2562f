using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Insights.ServiceDefaults.Tests;

public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task A_counter_on_an_Insights_meter_is_scraped_in_Prometheus_text_format()
    {
        await using var host = await TestHost.StartAsync();
        var meter = host.App.Services.GetRequiredService<IMeterFactory>().Create(InsightsTelemetry.NameFor("Probe"));
        meter.CreateCounter<long>("insights.probe.events.accepted").Add(3);

        using var response = await host.Client.GetAsync(new Uri(Extensions.MetricsPath, UriKind.Relative), TestContext.Current.CancellationToken);
        var scrape = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(StatusCodes.Status200OK, (int)response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains("# TYPE insights_probe_events_accepted_total counter", scrape, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"^insights_probe_events_accepted_total\{[^}]*otel_scope_name=""Insights.Probe""[^}]*\} 3$", RegexOptions.Multiline), scrape);
    }

    [Fact]
    public async Task A_meter_outside_the_Insights_convention_is_not_scraped()
    {
        await using var host = await TestHost.StartAsync();
        var meter = host.App.Services.GetRequiredService<IMeterFactory>().Create("Elsewhere.Probe");
        meter.CreateCounter<long>("elsewhere.probe.events").Add(1);

        var scrape = await host.GetStringAsync(Extensions.MetricsPath);

        Assert.DoesNotContain("elsewhere_probe_events", scrape, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_appear_as_http_server_duration_but_probes_and_scrapes_do_not()
    {
        await using var host = await TestHost.StartAsync(map: app => app.MapGet("/metrics-probe/ping", () => "pong"));

        await host.GetStringAsync(Extensions.LivenessPath);
        await host.GetStringAsync(Extensions.ReadinessPath);
        await host.GetStringAsync("/metrics-probe/ping");
        var scrape = await host.ScrapeUntilAsync(s => RequestCounts(s).Any(line => line.Contains("http_route=\"/metrics-probe/ping\"", StringComparison.Ordinal)));

        var requestCounts = RequestCounts(scrape);
        Assert.Contains(requestCounts, line => line.Contains("http_route=\"/metrics-probe/ping\"", StringComparison.Ordinal) && line.EndsWith("} 1", StringComparison.Ordinal));
        Assert.DoesNotContain(requestCounts, line => line.Contains($"http_route=\"{Extensions.LivenessPath}\"", StringComparison.Ordinal));
        Assert.DoesNotContain(requestCounts, line => line.Contains($"http_route=\"{Extensions.ReadinessPath}\"", StringComparison.Ordinal));
        Assert.DoesNotContain(requestCounts, line => line.Contains($"http_route=\"{Extensions.MetricsPath}\"", StringComparison.Ordinal));
    }

    // One line per route and status: how many requests http.server.request.duration has seen.
    private static List<string> RequestCounts(string scrape) =>
        scrape.Split('\n').Where(line => line.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)).ToList();
}
