using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Insights.Processors.Consuming;

/// <summary>
/// What a consumer loop last learned about its dependencies, for <c>/readyz</c>. Written by the loop's thread,
/// read by health probes: the field is replaced whole, never mutated in place.
/// </summary>
public class ConsumerHealth(string prefix, string healthy) : IHealthCheck
{
    private volatile string? notReadyBecause = prefix + "migrating the ClickHouse schema";
    private readonly TaskCompletionSource schemaApplied = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the loop has applied the ClickHouse schema, so work on its tables (a roll-up) can start.</summary>
    public Task SchemaApplied => schemaApplied.Task;

    public void MarkSchemaApplied() => schemaApplied.TrySetResult();

    /// <summary>Null when ready; otherwise why not.</summary>
    public string? NotReadyBecause => notReadyBecause;

    public void Ready() => notReadyBecause = null;

    public void NotReady(string reason) => notReadyBecause = prefix + reason;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(notReadyBecause is { } reason ? HealthCheckResult.Unhealthy(reason) : HealthCheckResult.Healthy(healthy));
}
