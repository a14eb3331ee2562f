using System.ComponentModel.DataAnnotations;
using Insights.Contracts;
using Microsoft.Extensions.Options;

namespace Insights.Processors;

/// <summary>Where the Kafka cluster is (section <c>Kafka</c>); shared by the consumer and the producer.</summary>
public sealed class KafkaOptions
{
    /// <summary>Comma-separated host:port list; the dev stack's fixed port is the default.</summary>
    [Required]
    public string BootstrapServers { get; set; } = "127.0.0.1:9092";
}

/// <summary>How the processors consume, batch and write (section <c>Processors</c>).</summary>
public sealed class ProcessorOptions
{
    public const string SectionName = "Processors";

    /// <summary>Consumer group; every processor instance with the same id shares the partitions.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9._-]{1,249}$", ErrorMessage = "must be 1-249 of A-Z a-z 0-9 . _ -")]
    public string GroupId { get; set; } = "insights-processors";

    /// <summary>The topic ingest produces to.</summary>
    [Required]
    [RegularExpression(TopicName, ErrorMessage = TopicNameMessage)]
    public string Topic { get; set; } = Topics.Events;

    /// <summary>Where poison messages go, with the reason in headers.</summary>
    [Required]
    [RegularExpression(TopicName, ErrorMessage = TopicNameMessage)]
    public string DeadLetterTopic { get; set; } = Topics.DeadLetters;

    /// <summary>Where stored events are republished for live presence.</summary>
    [Required]
    [RegularExpression(TopicName, ErrorMessage = TopicNameMessage)]
    public string EnrichedTopic { get; set; } = Topics.Enriched;

    // Live presence needs it; off halves the Kafka traffic of a processor that only fills ClickHouse.
    public bool PublishEnriched { get; set; } = true;

    // Larger batches mean fewer ClickHouse parts and more events/s per insert, but more memory per batch
    // and a longer replay after a crash.
    [Range(1, 1_000_000)]
    public int BatchMaxEvents { get; set; } = 10_000;

    // How long the first event of a batch may wait for company: lower is fresher queries, higher is fewer,
    // larger inserts when traffic is light (ClickHouse prefers about one insert per second per table).
    [Range(1, 60_000)]
    public int BatchMaxWaitMs { get; set; } = 250;

    // First pause after a failed insert; short recovers fast from a blip, long spares a struggling server.
    [Range(1, 60_000)]
    public int BackoffInitialMs { get; set; } = 250;

    // Ceiling of the doubling back-off; lower resumes sooner after an outage, higher probes a dead server less.
    [Range(1, 600_000)]
    public int BackoffMaxMs { get; set; } = 10_000;

    // How long a silent member keeps its partitions: short moves work off a dead processor sooner, too short
    // evicts live ones during GC or CPU stalls.
    [Range(1_000, 300_000)]
    public int SessionTimeoutMs { get; set; } = 10_000;

    // Heartbeats per session: more frequent detects departures sooner at the cost of more group traffic.
    [Range(100, 100_000)]
    public int HeartbeatIntervalMs { get; set; } = 3_000;

    // How often stored offsets are committed: every interval's worth of inserted batches is re-read (and
    // deduplicated) after a crash; shorter costs one small request to the group coordinator per interval.
    [Range(100, 60_000)]
    public int AutoCommitIntervalMs { get; set; } = 1_000;

    // How long one insert may take before it counts as failed (and is retried with the same token).
    [Range(1, 600)]
    public int InsertTimeoutSeconds { get; set; } = 30;

    /// <summary>Fault injection for tests only; never set in a deployment.</summary>
    public FaultOptions Fault { get; set; } = new();

    private const string TopicName = "^[A-Za-z0-9._-]{1,249}$";
    private const string TopicNameMessage = "must be a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)";
}

/// <summary>Faults a test switches on to prove a guarantee; off by default.</summary>
public sealed class FaultOptions
{
    /// <summary>Kill the process right after an insert succeeded, before its offsets are stored or committed.</summary>
    public bool ExitAfterInsert { get; set; }

    /// <summary>Kill the process right after a batch's sessions were inserted (its events before them), before its
    /// offsets are stored or committed: the next owner replays events that are fully stored.</summary>
    public bool ExitAfterSessionsInsert { get; set; }
}

/// <summary>Rules that span settings; each failure names the keys involved.</summary>
internal sealed class ProcessorOptionsValidator : IValidateOptions<ProcessorOptions>
{
    public ValidateOptionsResult Validate(string? name, ProcessorOptions options)
    {
        var failures = new List<string>();
        var s = ProcessorOptions.SectionName;
        if (options.BackoffMaxMs < options.BackoffInitialMs)
        {
            failures.Add($"{s}:BackoffMaxMs ({options.BackoffMaxMs}) must not be less than {s}:BackoffInitialMs ({options.BackoffInitialMs})");
        }

        if (options.HeartbeatIntervalMs >= options.SessionTimeoutMs)
        {
            failures.Add($"{s}:HeartbeatIntervalMs ({options.HeartbeatIntervalMs}) must be less than {s}:SessionTimeoutMs ({options.SessionTimeoutMs})");
        }

        if (new[] { options.Topic, options.DeadLetterTopic, options.EnrichedTopic }.Distinct(StringComparer.Ordinal).Count() < 3)
        {
            failures.Add($"{s}:Topic, {s}:DeadLetterTopic and {s}:EnrichedTopic must be three different topics");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
