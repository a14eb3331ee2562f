using Insights.Processors.Consuming;

namespace Insights.Processors;

/// <summary>The processors' consumer group's readiness for <c>/readyz</c> (written by its loop, read by probes).</summary>
public sealed class PipelineHealth() : ConsumerHealth("", "consuming; ClickHouse accepts inserts");
