using Insights.Processors.Consuming;

namespace Insights.Attribution;

/// <summary>The attribution consumer group's readiness for <c>/readyz</c> (written by its loop, read by probes).</summary>
public sealed class AttributionHealth() : ConsumerHealth("attribution: ", "attributing; ClickHouse answers");
