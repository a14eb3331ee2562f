using Confluent.Kafka;
using Insights.DevStack.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.DevStack.Tests.Kafka;

/// <summary>The trimmer against a mock cluster in this process, talking to it over the Kafka protocol as in the dev stack.</summary>
public sealed class ConsumedLogTrimmerTests
{
    private const int Keep = 100;

    [Fact]
    public async Task Deletes_only_what_every_group_has_read_and_keeps_KeepConsumed_behind_the_slowest()
    {
        var topic = KafkaTest.UniqueName("trimmed");
        using var cluster = Cluster(topic, out var options);
        using var trimmer = new ConsumedLogTrimmer(cluster, options, NullLogger<ConsumedLogTrimmer>.Instance);
        await ProduceAsync(cluster, topic, partition: 0, count: 1000);
        await ProduceAsync(cluster, topic, partition: 1, count: 1000);

        Commit(cluster, "fast", topic, (0, 900), (1, 500));
        Commit(cluster, "slow", topic, (0, 700)); // partition 1: not read by "slow" yet

        var trimmed = await trimmer.TrimAsync(TestContext.Current.CancellationToken);

        Assert.Equal([new TopicPartitionOffset(topic, 0, 700 - Keep)], trimmed);
        Assert.Equal((600, 1000), Watermarks(cluster, topic, 0));
        Assert.Equal((0, 1000), Watermarks(cluster, topic, 1)); // nothing goes before every group has read it

        // Both groups still resume where they were, and a reader from the beginning starts at the new log start.
        Assert.Equal(700, FirstOffsetRead(cluster, "slow", topic, 0));
        Assert.Equal(600, FirstOffsetRead(cluster, KafkaTest.UniqueName("replay"), topic, 0));

        // Nothing new read: nothing more to delete. Then "slow" reads partition 1 and the groups move on.
        Assert.Empty(await trimmer.TrimAsync(TestContext.Current.CancellationToken));
        Commit(cluster, "slow", topic, (0, 950), (1, 450));
        Assert.Equal(
            [new TopicPartitionOffset(topic, 0, 900 - Keep), new TopicPartitionOffset(topic, 1, 450 - Keep)],
            await trimmer.TrimAsync(TestContext.Current.CancellationToken));
        Assert.Equal((800, 1000), Watermarks(cluster, topic, 0));
        Assert.Equal((350, 1000), Watermarks(cluster, topic, 1));
    }

    [Fact]
    public async Task Never_moves_a_log_start_backwards()
    {
        // The mock sets a log's start to whatever it is told. A log that already starts later (its own 5 MiB limit
        // dropped batches a lagging group never read) must stay as it is, or fetches would point at deleted batches.
        var topic = KafkaTest.UniqueName("ahead");
        using var cluster = Cluster(topic, out var options);
        using var trimmer = new ConsumedLogTrimmer(cluster, options, NullLogger<ConsumedLogTrimmer>.Instance);
        await ProduceAsync(cluster, topic, partition: 0, count: 1000);
        cluster.DeleteRecords(topic, 0, 800);
        Commit(cluster, "fast", topic, (0, 1000));
        Commit(cluster, "slow", topic, (0, 850));

        Assert.Empty(await trimmer.TrimAsync(TestContext.Current.CancellationToken));
        Assert.Equal((800, 1000), Watermarks(cluster, topic, 0));
        Assert.Equal(800, FirstOffsetRead(cluster, KafkaTest.UniqueName("replay"), topic, 0));
    }

    [Fact]
    public async Task Rides_out_a_broker_that_goes_down_and_comes_back_and_then_trims_again()
    {
        // The dev stack's fault injection takes its broker down under the trimmer. librdkafka's admin client aborted the
        // whole process here (an assertion in its coordinator requests); the trimmer must only log, wait and go on.
        var topic = KafkaTest.UniqueName("outage");
        using var cluster = Cluster(topic, out var options);
        options.TrimIntervalMs = 100;
        var log = new RecordingLogger();
        using var trimmer = new ConsumedLogTrimmer(cluster, options, new TypedLogger(log));
        await ProduceAsync(cluster, topic, partition: 0, count: 1000);
        Commit(cluster, "fast", topic, (0, 900));
        Commit(cluster, "slow", topic, (0, 300));
        await trimmer.StartAsync(TestContext.Current.CancellationToken);
        await WaitForAsync(() => Watermarks(cluster, topic, 0).Low == 300 - Keep, "the first trim");

        cluster.SetBrokerDown(1);
        await WaitForAsync(() => log.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains("could not trim", StringComparison.Ordinal)), "the warning");
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken); // requests time out and are retried meanwhile
        cluster.SetBrokerUp(1);

        Commit(cluster, "slow", topic, (0, 800));
        await WaitForAsync(() => Watermarks(cluster, topic, 0).Low == 800 - Keep, "the trim after the outage");
        Assert.Contains(log.Entries, e => e.Message.Contains("works again", StringComparison.Ordinal));
        Assert.False(trimmer.ExecuteTask!.IsCompleted);
        await trimmer.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Settings_that_cannot_be_honoured_are_refused_by_name()
    {
        var options = new KafkaStackOptions { Port = 0, KeepConsumed = -1, TrimIntervalMs = -5 };

        var error = Assert.Throws<InvalidOperationException>(() => MockKafkaCluster.Start(options, NullLogger.Instance));

        Assert.Contains("Kafka:KeepConsumed must not be negative", error.Message, StringComparison.Ordinal);
        Assert.Contains("Kafka:TrimIntervalMs must not be negative", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_topic_not_created_at_start_is_not_trimmed_and_the_operator_is_told()
    {
        var log = new RecordingLogger();
        using var cluster = MockKafkaCluster.Start(new KafkaStackOptions { Port = 0, Topics = [] }, NullLogger.Instance);
        using var trimmer = new ConsumedLogTrimmer(cluster, new KafkaStackOptions { Port = 0, Topics = [] }, new TypedLogger(log));

        await trimmer.StartAsync(TestContext.Current.CancellationToken);
        await trimmer.ExecuteTask!.WaitAsync(KafkaTest.Deadline, TestContext.Current.CancellationToken); // with nothing to trim it ends after saying so

        var line = Assert.Single(log.Entries);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("insights.events is not trimmed", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trims_the_pipeline_topic_behind_both_consumer_groups_by_default_and_nothing_when_turned_off()
    {
        var trimmed = Assert.Single(new KafkaStackOptions().Trimmed());
        Assert.Equal(("insights.events", 12), (trimmed.Topic, trimmed.Partitions));
        Assert.Equal(["insights-processors", "insights-attribution"], trimmed.Groups);

        Assert.Empty(new KafkaStackOptions { TrimIntervalMs = 0 }.Trimmed());
        Assert.Empty(new KafkaStackOptions { ConsumedBy = new() { ["insights.events"] = " " } }.Trimmed());
    }

    private static MockKafkaCluster Cluster(string topic, out KafkaStackOptions options)
    {
        options = new KafkaStackOptions
        {
            Port = 0,
            Topics = new() { [topic] = 2 },
            ConsumedBy = new() { [topic] = "fast, slow" },
            KeepConsumed = Keep,
        };
        return MockKafkaCluster.Start(options, NullLogger.Instance);
    }

    private static async Task ProduceAsync(MockKafkaCluster cluster, string topic, int partition, int count)
    {
        // Small batches, so that a deletion falls between batches as well as inside one.
        using var producer = KafkaTest.Producer(cluster.BootstrapServers, c => c.BatchNumMessages = 7);
        var sends = Enumerable.Range(0, count).Select(i =>
            producer.ProduceAsync(new TopicPartition(topic, partition), new Message<string, string> { Key = $"{i}", Value = $"message {i}" }));
        await Task.WhenAll(sends);
    }

    private static void Commit(MockKafkaCluster cluster, string group, string topic, params (int Partition, long Offset)[] offsets)
    {
        using var consumer = KafkaTest.Consumer(cluster.BootstrapServers, group);
        consumer.Commit([.. offsets.Select(o => new TopicPartitionOffset(topic, o.Partition, o.Offset))]);
    }

    private static (long Low, long High) Watermarks(MockKafkaCluster cluster, string topic, int partition)
    {
        using var consumer = KafkaTest.Consumer(cluster.BootstrapServers, KafkaTest.UniqueName("watermarks"));
        var watermarks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), KafkaTest.Deadline);
        return (watermarks.Low.Value, watermarks.High.Value);
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + KafkaTest.Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited {KafkaTest.Deadline} for {what}.");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The offset of the first message a member of <paramref name="group"/> reads from the partition.</summary>
    private static long FirstOffsetRead(MockKafkaCluster cluster, string group, string topic, int partition)
    {
        using var consumer = KafkaTest.Consumer(cluster.BootstrapServers, group);
        consumer.Assign(new TopicPartitionOffset(topic, partition, Offset.Stored)); // the committed offset, else the earliest
        var deadline = DateTime.UtcNow + KafkaTest.Deadline;
        while (DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } result)
                return result.Offset.Value;
        }
        throw new TimeoutException($"{group} read nothing from {topic} [{partition}] within {KafkaTest.Deadline}.");
    }
}

internal sealed class TypedLogger(RecordingLogger inner) : ILogger<ConsumedLogTrimmer>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        inner.Log(logLevel, eventId, state, exception, formatter);
}
