namespace Insights.ServiceDefaults;

/// <summary>Tags that decide which endpoint runs a health check.</summary>
/// <example><c>builder.Services.AddHealthChecks().AddCheck&lt;KafkaHealthCheck&gt;("kafka", tags: [HealthTags.Ready]);</c></example>
public static class HealthTags
{
    /// <summary>Run by <c>/healthz</c>. Only checks of the process itself; a failure gets the container restarted.</summary>
    public const string Live = "live";

    /// <summary>Run by <c>/readyz</c>. Dependencies (Kafka, ClickHouse); a failure takes the instance out of rotation.</summary>
    public const string Ready = "ready";
}
