using System.ComponentModel.DataAnnotations;

namespace Insights.Ingest.Kafka;

/// <summary>
/// Back-pressure from the processors' backlog (section <c>Ingest:Backlog</c>): how far the consumer groups may fall
/// behind on the events topic before ingest answers 503 with Retry-After instead of 202.
/// </summary>
public sealed class BacklogOptions
{
    public const string Section = "Ingest:Backlog";

    /// <summary>
    /// Estimated bytes of unread events on any one partition at which every source is refused (0 = never: production Kafka
    /// keeps a backlog for its retention). Set it below what the broker keeps per partition: the dev stack's broker keeps
    /// 5 MiB and drops older events whether read or not, so scripts/run.sh sets 4 MiB.
    /// </summary>
    [Range(typeof(long), "0", "1099511627776")]
    public long MaxBytesPerPartition { get; set; }

    /// <summary>
    /// Share of <see cref="MaxBytesPerPartition"/> from which public write keys (page traffic) are refused, so server keys
    /// and webhooks (orders, chats) keep the rest: lower keeps more room for them, and turns page traffic away sooner.
    /// </summary>
    [Range(0.1, 1.0)]
    public double PublicShare { get; set; } = 0.9;

    /// <summary>The consumer groups whose backlog counts, comma-separated (the slowest of them on each partition): the processors' own and
    /// attribution's, whose offsets the processors commit as they attribute.</summary>
    public string ConsumerGroups { get; set; } = "insights-processors,insights-attribution";

    /// <summary>How often the groups' progress is read from the broker: shorter reacts sooner, and asks the broker more often.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    public bool Enabled => MaxBytesPerPartition > 0;

    internal string[] Groups => ConsumerGroups.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Rules that span settings, reported under their configuration keys.</summary>
internal sealed class BacklogOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<BacklogOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, BacklogOptions options) =>
        options.Enabled && options.Groups.Length == 0
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail(
                $"{BacklogOptions.Section}:ConsumerGroups must name at least one consumer group when {BacklogOptions.Section}:MaxBytesPerPartition is set")
            : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
}
