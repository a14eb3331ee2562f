using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Insights.Ingest.Kafka;

/// <summary>
/// Ready while Kafka takes our messages. Under traffic, a recent acknowledgement with no failure since says so for
/// free; otherwise (idle, or failing) the cluster is asked for its metadata over the producer's connections.
/// </summary>
internal sealed class KafkaReadinessCheck(KafkaEventSink sink) : IHealthCheck
{
    private static readonly TimeSpan Recent = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var success = sink.LastSuccess;
        var failure = sink.LastFailure;
        if (success >= 0 && success > failure && Stopwatch.GetElapsedTime(success) < Recent)
        {
            return HealthCheckResult.Healthy($"Kafka acknowledged a message {Stopwatch.GetElapsedTime(success).TotalSeconds:0.#} s ago");
        }

        try
        {
            // GetMetadata blocks its thread for up to the timeout; keep it off the request threads' budget.
            var metadata = await Task.Run(() => sink.GetMetadata(ProbeTimeout), cancellationToken);
            if (metadata.Brokers.Count == 0)
            {
                return HealthCheckResult.Unhealthy("Kafka answered with no broker");
            }

            return failure > success
                ? HealthCheckResult.Degraded($"Kafka is reachable ({metadata.Brokers.Count} brokers) but the last delivery failed: {sink.LastError}")
                : HealthCheckResult.Healthy($"Kafka is reachable ({metadata.Brokers.Count} brokers)");
        }
        catch (KafkaException error)
        {
            return HealthCheckResult.Unhealthy($"Kafka is unreachable: {error.Error.Code}: {error.Error.Reason}");
        }
    }
}
