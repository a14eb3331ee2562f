using System.ComponentModel.DataAnnotations;
using Insights.Contracts;
using Microsoft.Extensions.Options;

namespace Insights.Processors.Consuming;

/// <summary>
/// The Kafka settings every consumer group of the host shares (section <c>Kafka</c>): where the cluster is, how
/// group membership and fetching behave, and the one back-off for outages. Each group only names its group id,
/// topic and batch limits (<see cref="ConsumerGroupOptions"/>).
/// </summary>
public sealed class KafkaOptions
{
    public const string SectionName = "Kafka";

    /// <summary>Comma-separated host:port list; the dev stack's fixed port is the default.</summary>
    [Required]
    public string BootstrapServers { get; set; } = "127.0.0.1:9092";

    /// <summary>
    /// How long a silent member keeps its partitions: short moves work off a dead processor sooner, too short
    /// evicts live ones during GC or CPU stalls.
    /// </summary>
    [Range(1_000, 300_000)]
    public int SessionTimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// Heartbeats per session: more frequent detects departures sooner at the cost of more group traffic.
    /// </summary>
    [Range(100, 100_000)]
    public int HeartbeatIntervalMs { get; set; } = 3_000;

    /// <summary>
    /// How often stored offsets are committed: every interval's worth of written batches is re-read (and
    /// deduplicated) after a crash; shorter costs one small request to the group coordinator per interval.
    /// </summary>
    [Range(100, 60_000)]
    public int AutoCommitIntervalMs { get; set; } = 1_000;

    /// <summary>
    /// Bytes fetched per partition per request: larger drains a backlog in fewer round trips, but holds more
    /// memory per assigned partition (librdkafka's default).
    /// </summary>
    [Range(1_024, 100 * 1024 * 1024)]
    public int MaxPartitionFetchBytes { get; set; } = 1024 * 1024;

    /// <summary>Bytes per fetch response across partitions: the ceiling of what one fetch may buffer.</summary>
    [Range(1_024, 1024 * 1024 * 1024)]
    public int FetchMaxBytes { get; set; } = 50 * 1024 * 1024;

    /// <summary>
    /// How long the broker may hold a fetch that finds nothing new. Kafka answers as soon as a message arrives, so
    /// there this only sets how often an idle consumer asks again (Kafka's default, 500 ms). The dev stack's broker
    /// (librdkafka's mock) holds an empty fetch the whole time even when messages arrive meanwhile, so every event would
    /// wait up to this long before a processor sees it: <c>scripts/run.sh</c> sets it lower there.
    /// </summary>
    [Range(0, 60_000)]
    public int FetchWaitMaxMs { get; set; } = 500;

    /// <summary>
    /// First pause after a batch failed on an outage (ClickHouse or Kafka unreachable); short recovers fast from a
    /// blip, long spares a struggling server.
    /// </summary>
    [Range(1, 60_000)]
    public int BackoffInitialMs { get; set; } = 250;

    /// <summary>
    /// Ceiling of the doubling back-off; lower resumes sooner after an outage, higher probes a dead server less.
    /// </summary>
    [Range(1, 600_000)]
    public int BackoffMaxMs { get; set; } = 10_000;
}

/// <summary>What one consumer group names for itself; the rest of its Kafka settings are shared (<see cref="KafkaOptions"/>).</summary>
public abstract class ConsumerGroupOptions
{
    /// <summary>What Kafka allows in a topic name and a consumer group id.</summary>
    public const string TopicName = "^[A-Za-z0-9._-]{1,249}$";
    protected const string TopicNameMessage = "must be a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)";
    public const string GroupIdMessage = "must be 1-249 of A-Z a-z 0-9 . _ -";

    /// <summary>Consumer group; every instance with the same id shares the partitions.</summary>
    [Required]
    [RegularExpression(TopicName, ErrorMessage = GroupIdMessage)]
    public string GroupId { get; set; } = "";

    /// <summary>The topic ingest produces to.</summary>
    [Required]
    [RegularExpression(TopicName, ErrorMessage = TopicNameMessage)]
    public string Topic { get; set; } = Topics.Events;

    /// <summary>Where messages this group cannot handle go, with the reason, stage and position in headers.</summary>
    [Required]
    [RegularExpression(TopicName, ErrorMessage = TopicNameMessage)]
    public string DeadLetterTopic { get; set; } = Topics.DeadLetters;

    /// <summary>
    /// Larger batches mean fewer ClickHouse parts and more events/s per insert, but more memory per batch and a
    /// longer replay after a crash.
    /// </summary>
    [Range(1, 1_000_000)]
    public int BatchMaxEvents { get; set; } = 10_000;

    /// <summary>
    /// How long the first event of a batch may wait for company, counted from when it was produced (its Kafka
    /// timestamp): lower is fresher data, higher is fewer, larger inserts when traffic is light (ClickHouse prefers
    /// about one insert per second per table). Events that queued while the last batch was written are past it and
    /// go in the next batch without a further wait.
    /// </summary>
    [Range(1, 60_000)]
    public int BatchMaxWaitMs { get; set; } = 250;

    /// <summary>The group's <c>Fault</c> settings (tests only), as far as the loop acts on them.</summary>
    protected internal abstract ConsumerFaultOptions LoopFaults { get; }
}

/// <summary>Faults a test switches on to prove a guarantee; off by default.</summary>
public class ConsumerFaultOptions
{
    /// <summary>Any batch holding a message whose value contains this text fails as ClickHouse refusing its data
    /// (code 27) does: proves that such a batch is split, the message dead-lettered and the rest written.</summary>
    public string? RejectValueContaining { get; set; }
}

/// <summary>Rules across the shared Kafka settings; each failure names the keys involved.</summary>
internal sealed class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        var failures = new List<string>();
        var s = KafkaOptions.SectionName;
        if (options.BackoffMaxMs < options.BackoffInitialMs)
        {
            failures.Add($"{s}:BackoffMaxMs ({options.BackoffMaxMs}) must not be less than {s}:BackoffInitialMs ({options.BackoffInitialMs})");
        }

        if (options.HeartbeatIntervalMs >= options.SessionTimeoutMs)
        {
            failures.Add($"{s}:HeartbeatIntervalMs ({options.HeartbeatIntervalMs}) must be less than {s}:SessionTimeoutMs ({options.SessionTimeoutMs})");
        }

        if (options.FetchMaxBytes < options.MaxPartitionFetchBytes)
        {
            failures.Add($"{s}:FetchMaxBytes ({options.FetchMaxBytes}) must not be less than {s}:MaxPartitionFetchBytes ({options.MaxPartitionFetchBytes})");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
