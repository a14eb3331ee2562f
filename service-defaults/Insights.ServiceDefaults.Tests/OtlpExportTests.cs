using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Insights.ServiceDefaults.Tests;

public sealed class OtlpExportTests
{
    [Fact]
    public async Task With_an_OTLP_endpoint_set_logs_metrics_and_traces_reach_the_collector()
    {
        // A stand-in collector on loopback that records which signal each OTLP/HTTP export carried.
        var received = new ConcurrentBag<string>();
        var collectorBuilder = WebApplication.CreateSlimBuilder();
        collectorBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collector = collectorBuilder.Build();
        collector.MapPost("/v1/{signal}", (string signal) =>
        {
            received.Add(signal);
            return Results.Bytes([], "application/x-protobuf");
        });
        await collector.StartAsync(TestContext.Current.CancellationToken);

        await using var host = await TestHost.StartAsync(
            map: app => app.MapGet("/otlp-probe/ping", (ILogger<OtlpExportTests> log) =>
            {
                log.LogWarning("ping served");
                return "pong";
            }),
            settings: new Dictionary<string, string?>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Urls.Single(),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            });
        await host.GetStringAsync("/otlp-probe/ping");

        // Disposing the host shuts the providers down, which flushes every pending batch to the collector.
        await host.DisposeAsync();

        Assert.Equal(["logs", "metrics", "traces"], received.Distinct().Order(StringComparer.Ordinal));
    }
}
