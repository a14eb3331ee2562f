namespace Insights.DevStack.Kafka;

/// <summary>The dev stack's Kafka-protocol broker; bound from the configuration section "Kafka".</summary>
public sealed class KafkaStackOptions
{
    public const string SectionName = "Kafka";

    // Fixed bootstrap port forwarded to the first mock broker, so services can keep "127.0.0.1:9092";
    // 0 skips the forwarder and clients bootstrap from the mock brokers' ephemeral ports.
    public int Port { get; set; } = 9092;

    // More brokers exercise multi-broker metadata and leader spread; each one is another thread and
    // listener, and with one broker SetBrokerDown takes the whole cluster away.
    public int Brokers { get; set; } = 1;

    // Created at start-up with exactly these partition counts; anything else a client touches is
    // auto-created with the mock's fixed 4 partitions. Configuration adds to these defaults.
    public Dictionary<string, int> Topics { get; set; } = new(StringComparer.Ordinal)
    {
        // Two limits of librdkafka's mock broker set these counts. It keeps at most 5 MiB per partition and silently
        // drops older batches, so partitions × 5 MiB bounds how far the processors may fall behind before events are
        // lost. And it finds a fetch's offset by walking the partition's whole log (one step per produced batch, on its
        // one thread, which also answers ingest's produce requests): its cost grows with the square of the partition
        // count, because more partitions mean both more, smaller batches and more of them to walk. At 48 partitions the
        // walk took a core at 5,000 events/s and ingest's p99 went from 56 ms to 950 ms within 80 s of load
        // (benchmarks/README.md). 12 partitions hold ~60 MiB (~385,000 events); production Kafka indexes its logs.
        // insights.enriched is written a processors' batch at a time (large batches, a short walk) and its live
        // readers start at the end, so it keeps 12 partitions: more room for a reader busy during a catch-up.
        ["insights.events"] = 12,
        ["insights.enriched"] = 12,
        ["insights.dlq"] = 4,
    };

    // What the broker keeps of a topic once it has been read. The mock finds a fetch's offset by walking the partition's
    // log from its oldest batch (see Topics), so every fetch, and every produce acknowledgement queued behind it, costs
    // more the more the log holds: at 5,000 events/s its thread's CPU grew from 4 s in the first minute to 54 s over five,
    // and ingest's p99 with it (benchmarks/README.md). Real Kafka indexes its log and keeps it for its retention. Here
    // each topic listed is trimmed every TrimIntervalMs to KeepConsumed messages per partition behind the slowest of the
    // consumer groups named (comma-separated); a partition one of them has not committed is left alone, so no record is
    // deleted before every group named has read it. On the dev stack, `insights-admin events replay` reaches that far
    // back. Configuration replaces a topic's groups; an empty value stops trimming it. Only topics in Topics are trimmed
    // (the trimmer warns about the others).
    public Dictionary<string, string> ConsumedBy { get; set; } = new(StringComparer.Ordinal)
    {
        ["insights.events"] = "insights-processors,insights-attribution",
    };

    public int KeepConsumed { get; set; } = 2000;

    // 0 turns trimming off: the mock then keeps its 5 MiB per partition.
    public int TrimIntervalMs { get; set; } = 1000;

    // How long a new group waits for more members before its first assignment: higher means consumers
    // that start together share one rebalance instead of several, but every new group waits this long
    // (real Kafka's default is 3000).
    public int InitialRebalanceDelayMs { get; set; } = 250;

    /// <summary>Every problem with these settings, each naming the setting; empty when they are usable.</summary>
    internal IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Port is < 0 or > 65535)
            errors.Add($"{SectionName}:Port must be between 0 and 65535 (0 = no fixed bootstrap port); it is {Port}.");
        if (Brokers is < 1 or > 32)
            errors.Add($"{SectionName}:Brokers must be between 1 and 32; it is {Brokers}.");
        if (InitialRebalanceDelayMs < 0)
            errors.Add($"{SectionName}:InitialRebalanceDelayMs must not be negative; it is {InitialRebalanceDelayMs}.");
        if (KeepConsumed < 0)
            errors.Add($"{SectionName}:KeepConsumed must not be negative; it is {KeepConsumed}.");
        if (TrimIntervalMs < 0)
            errors.Add($"{SectionName}:TrimIntervalMs must not be negative (0 = keep everything the mock holds); it is {TrimIntervalMs}.");
        foreach (var (name, partitions) in Topics)
        {
            if (!IsLegalTopicName(name))
                errors.Add($"{SectionName}:Topics:{name} is not a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -).");
            if (partitions < 1)
                errors.Add($"{SectionName}:Topics:{name} must have at least 1 partition; it has {partitions}.");
        }
        return errors;
    }

    /// <summary>
    /// The topics to trim and, for each, the consumer groups it is trimmed behind. Only topics in <see cref="Topics"/>
    /// have a partition count known without asking the broker (which would create the topic).
    /// </summary>
    internal IReadOnlyList<(string Topic, int Partitions, string[] Groups)> Trimmed() =>
        TrimIntervalMs == 0
            ? []
            : [.. ConsumedBy
                .Select(t => (Topic: t.Key, Partitions: Topics.GetValueOrDefault(t.Key), Groups: t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
                .Where(t => t.Partitions > 0 && t.Groups.Length > 0)];

    private static bool IsLegalTopicName(string name) =>
        name.Length is > 0 and <= 249 && name is not ("." or "..")
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
