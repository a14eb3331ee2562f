using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Insights.QueryApi.Storage;

/// <summary>
/// Ready when ClickHouse answers and the events table exists. The query API never creates the schema (the
/// processors own migrations), so until they have run it stays out of rotation instead of answering 503s.
/// </summary>
public sealed class ClickHouseReadinessCheck(ReportsDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await database.ProblemAsync(cancellationToken) is { } problem
            ? HealthCheckResult.Unhealthy(problem)
            : HealthCheckResult.Healthy($"ClickHouse answers; events table present in '{database.Database}'.");
}
