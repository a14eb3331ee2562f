using System.Globalization;
using System.Text;
using Insights.Contracts;

namespace Insights.Deploy;

/// <summary>One topic of the pipeline as production creates it.</summary>
/// <param name="Partitions">The most consumers of one group that can work at once; see <see cref="TopicLayout"/>.</param>
/// <param name="RetentionHours">How far back a group can be rewound (replay, backfill) before the broker has deleted the data.</param>
internal sealed record TopicSpec(string Name, int Partitions, int RetentionHours, string Why);

/// <summary>
/// The Kafka topics production creates before the services start (auto-creation is off on a production broker). Every
/// topic: replication factor 3 and <c>min.insync.replicas</c> 2, so an acknowledged event (ingest produces with
/// acks=all) survives the loss of any one broker, and producing still works while one broker is down for maintenance.
/// </summary>
internal static class TopicLayout
{
    public const int ReplicationFactor = 3;
    public const int MinInsyncReplicas = 2;

    /// <summary>
    /// Events are keyed by <c>site:visitor</c>, so a visitor's events stay in one partition, in order, and the processor
    /// owning it holds the visitor's open session. Adding partitions later moves visitors to other partitions (their
    /// open sessions are then looked up in ClickHouse by the new owner): choose the count for the largest processor
    /// fleet expected. 48 allows up to 48 processor instances (the dev stack uses the same count).
    /// </summary>
    public static IReadOnlyList<TopicSpec> Topics(int eventPartitions = 48) =>
    [
        new(Contracts.Topics.Events, eventPartitions, 7 * 24,
            "raw events from ingest, keyed site:visitor; 7 days to replay after a processor or ClickHouse incident"),
        new(Contracts.Topics.Enriched, Math.Max(1, eventPartitions / 4), 24,
            "stored events republished for live presence; every query-API instance reads all of it from the latest offset"),
        new(Contracts.Topics.DeadLetters, 4, 30 * 24,
            "messages a group could not use, reason in headers; rare, kept long enough to be looked at"),
    ];

    /// <summary>The <c>kafka-topics.sh --create</c> commands, one per topic, with a comment saying why.</summary>
    public static string Render(string bootstrap, int eventPartitions)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"# Kafka topics of Insights: replication factor {ReplicationFactor}, min.insync.replicas {MinInsyncReplicas} (ingest produces with acks=all).");
        foreach (var topic in Topics(eventPartitions))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"# {topic.Name}: {topic.Why}");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"kafka-topics.sh --bootstrap-server {bootstrap} --create --if-not-exists --topic {topic.Name} --partitions {topic.Partitions} --replication-factor {ReplicationFactor} --config min.insync.replicas={MinInsyncReplicas} --config retention.ms={(long)topic.RetentionHours * 3_600_000} --config cleanup.policy=delete --config compression.type=producer");
        }

        return text.ToString();
    }
}
