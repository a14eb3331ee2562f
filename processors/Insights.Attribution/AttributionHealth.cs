using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Insights.Attribution;

/// <summary>The attribution consumer's readiness for <c>/readyz</c>; written by the loop's thread, read by probes.</summary>
public sealed class AttributionHealth : IHealthCheck
{
    private volatile string? notReadyBecause = "attribution: migrating the ClickHouse schema";

    public string? NotReadyBecause => notReadyBecause;

    public void Ready() => notReadyBecause = null;

    public void NotReady(string reason) => notReadyBecause = "attribution: " + reason;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(notReadyBecause is { } reason
            ? HealthCheckResult.Unhealthy(reason)
            : HealthCheckResult.Healthy("attributing; ClickHouse answers"));
}
