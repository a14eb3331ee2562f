using System.ComponentModel.DataAnnotations;
using Insights.Contracts;
using Insights.Processors.Consuming;
using Microsoft.Extensions.Options;

namespace Insights.Processors;

/// <summary>
/// How the processors' consumer group consumes, batches and writes (section <c>Processors</c>): its group id, topic,
/// dead-letter topic and batch limits (see <see cref="ConsumerGroupOptions"/>), plus its own steps. Kafka settings
/// every group shares (cluster, session timeouts, fetch sizes, back-off) are in the <c>Kafka</c> section.
/// </summary>
public sealed class ProcessorOptions : ConsumerGroupOptions
{
    public const string SectionName = "Processors";

    public ProcessorOptions()
    {
        GroupId = "insights-processors";
        // Under load a batch fills to this size well within BatchMaxWaitMs: each insert, session write and offset
        // commit is paid once per 50,000 events, and a visitor seen several times in the batch writes its session once.
        // When traffic is light the wait ends the batch first, so it stays small and fresh.
        BatchMaxEvents = 50_000;
        BatchMaxWaitMs = 250;
    }

    /// <summary>Where stored events are republished for live presence.</summary>
    [Required]
    [RegularExpression(TopicName, ErrorMessage = TopicNameMessage)]
    public string EnrichedTopic { get; set; } = Topics.Enriched;

    /// <summary>
    /// Live presence needs it; off halves the Kafka traffic of a processor that only fills ClickHouse.
    /// </summary>
    public bool PublishEnriched { get; set; } = true;

    /// <summary>
    /// The most bytes of one <c>insights.enriched</c> message: a batch's live events go out as bundles, one event per
    /// line, and Kafka's costs per message (the producer's, the broker's, every presence reader's) are paid once per
    /// bundle. Must stay at or below the query API's <c>Live:MaxMessageBytes</c> (64 KiB by default), which skips
    /// larger messages; a single event larger than this goes out alone.
    /// </summary>
    [Range(1024, 1024 * 1024)]
    public int EnrichedMessageMaxBytes { get; set; } = 32 * 1024;

    /// <summary>
    /// How long one insert or look-up may take before it counts as failed (an outage: retried with the same token).
    /// </summary>
    [Range(1, 600)]
    public int InsertTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// How often the stats report's quarter hours are rolled up (<see cref="StatsRollup"/>); 0 turns the roll-up off (reports
    /// then read every quarter hour raw: exact, slower).
    /// </summary>
    [Range(0, 3600)]
    public int StatsRollupIntervalSeconds { get; set; } = 10;

    /// <summary>
    /// How long a quarter hour must go without a page view written into it before it is rolled up. Longer than
    /// <see cref="InsertTimeoutSeconds"/>: every insert that touched it has committed by then.
    /// </summary>
    [Range(1, 86_400)]
    public int StatsRollupSettleSeconds { get; set; } = 60;

    /// <summary>Fault injection for tests only; never set in a deployment.</summary>
    public FaultOptions Fault { get; set; } = new();

    protected override ConsumerFaultOptions LoopFaults => Fault;
}

/// <summary>Faults a test switches on to prove a guarantee; off by default.</summary>
public sealed class FaultOptions : ConsumerFaultOptions
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
        var s = ProcessorOptions.SectionName;
        var failures = new List<string>();
        if (new[] { options.Topic, options.DeadLetterTopic, options.EnrichedTopic }.Distinct(StringComparer.Ordinal).Count() < 3)
        {
            failures.Add($"{s}:Topic, {s}:DeadLetterTopic and {s}:EnrichedTopic must be three different topics");
        }

        if (options.StatsRollupSettleSeconds <= options.InsertTimeoutSeconds)
        {
            failures.Add($"{s}:StatsRollupSettleSeconds ({options.StatsRollupSettleSeconds}) must be longer than {s}:InsertTimeoutSeconds " +
                $"({options.InsertTimeoutSeconds}): a quarter hour is rolled up only once every insert into it has committed");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
