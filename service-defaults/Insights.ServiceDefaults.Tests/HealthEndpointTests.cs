using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit;

namespace Insights.ServiceDefaults.Tests;

public sealed class HealthEndpointTests
{
    [Fact]
    public async Task Healthz_is_200_with_only_the_process_check()
    {
        await using var host = await TestHost.StartAsync();

        var (status, body) = await GetAsync(host, Extensions.LivenessPath);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal(["self"], body.GetProperty("checks").EnumerateObject().Select(c => c.Name));
    }

    [Fact]
    public async Task Readyz_follows_a_ready_check_while_healthz_stays_200()
    {
        var broker = new Dependency();
        await using var host = await TestHost.StartAsync(builder => builder.Services.AddHealthChecks()
            .AddCheck("kafka", () => broker.Up ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("broker unreachable"), [HealthTags.Ready]));

        var (readyStatus, ready) = await GetAsync(host, Extensions.ReadinessPath);
        var (liveStatus, live) = await GetAsync(host, Extensions.LivenessPath);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyStatus);
        Assert.Equal("Unhealthy", ready.GetProperty("status").GetString());
        var kafka = ready.GetProperty("checks").GetProperty("kafka");
        Assert.Equal("Unhealthy", kafka.GetProperty("status").GetString());
        Assert.Equal("broker unreachable", kafka.GetProperty("description").GetString());
        // A broker outage must not get the container restarted: liveness never runs dependency checks.
        Assert.Equal(HttpStatusCode.OK, liveStatus);
        Assert.False(live.GetProperty("checks").TryGetProperty("kafka", out _));

        broker.Up = true;
        var (recoveredStatus, recovered) = await GetAsync(host, Extensions.ReadinessPath);

        Assert.Equal(HttpStatusCode.OK, recoveredStatus);
        Assert.Equal("Healthy", recovered.GetProperty("checks").GetProperty("kafka").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Readyz_is_200_when_every_ready_check_is_healthy()
    {
        await using var host = await TestHost.StartAsync(builder => builder.Services.AddHealthChecks()
            .AddCheck("kafka", () => HealthCheckResult.Healthy(), [HealthTags.Ready])
            .AddCheck("clickhouse", () => HealthCheckResult.Healthy(), [HealthTags.Ready]));

        var (status, body) = await GetAsync(host, Extensions.ReadinessPath);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["clickhouse", "kafka"], body.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order());
    }

    [Fact]
    public async Task Probes_and_scrapes_pass_a_service_wide_authorization_policy()
    {
        await using var host = await TestHost.StartAsync(
            builder =>
            {
                builder.Services.AddAuthentication(BearerTokenDefaults.AuthenticationScheme).AddBearerToken();
                builder.Services.AddAuthorizationBuilder()
                    .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
            },
            app => app.MapGet("/health-probe/private", () => "secret"));

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfAsync(host, "/health-probe/private"));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(host, Extensions.LivenessPath));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(host, Extensions.ReadinessPath));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(host, Extensions.MetricsPath));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(TestHost host, string path)
    {
        using var response = await host.Client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        using var json = JsonDocument.Parse(body);
        return (response.StatusCode, json.RootElement.Clone());
    }

    private static async Task<HttpStatusCode> StatusOfAsync(TestHost host, string path)
    {
        using var response = await host.Client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    private sealed class Dependency
    {
        public volatile bool Up;
    }
}
