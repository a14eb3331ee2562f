namespace Insights.Contracts;

/// <summary>The Kafka topics of the pipeline.</summary>
public static class Topics
{
    /// <summary>Raw, validated events from ingest, keyed by <c>site:visitor</c>.</summary>
    public const string Events = "insights.events";

    /// <summary>Enriched events for live presence (the live visitor list).</summary>
    public const string Enriched = "insights.enriched";

    /// <summary>Messages a processor could not use, with the reason in headers.</summary>
    public const string DeadLetters = "insights.dlq";
}
