using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Insights.DevStack.Tests.Kafka;

internal static class KafkaTest
{
    /// <summary>
    /// Long enough for a group join and a rebalance while other test projects share the machine's two cores; a passing
    /// test never waits for it.
    /// </summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(45);

    public static string UniqueName(string purpose) => $"kafka-test.{purpose}.{Guid.NewGuid():N}";

    public static IProducer<string, string> Producer(string bootstrapServers, Action<ProducerConfig>? configure = null)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
        };
        configure?.Invoke(config);
        return new ProducerBuilder<string, string>(config).Build();
    }

    public static IConsumer<string, string> Consumer(string bootstrapServers, string groupId, Action<ConsumerConfig>? configure = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = groupId,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            // The classic protocol on the mock rebalances after a member leaves only once its session
            // times out, so keep sessions short.
            SessionTimeoutMs = 1000,
            HeartbeatIntervalMs = 100,
        };
        configure?.Invoke(config);
        return new ConsumerBuilder<string, string>(config).Build();
    }

    public static IAdminClient Admin(string bootstrapServers) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();

    /// <summary>
    /// Creates a topic the one way a client can on the mock (CreateTopics times out): a metadata
    /// request for it auto-creates it, with 4 partitions. Returns its partition count.
    /// </summary>
    public static int AutoCreateTopic(string bootstrapServers, string topic)
    {
        using var admin = Admin(bootstrapServers);
        var found = Assert.Single(admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics);
        Assert.False(found.Error.IsError, $"{topic}: {found.Error.Reason}");
        return found.Partitions.Count;
    }

    /// <summary>
    /// Reads everything <paramref name="consumer"/> is assigned until <paramref name="expected"/>
    /// messages have arrived and every assigned partition has reported its end, so anything beyond
    /// the expected messages (a duplicate, an old message) would have been read too.
    /// </summary>
    public static List<ConsumeResult<string, string>> ConsumeToEnd(IConsumer<string, string> consumer, int expected)
    {
        var messages = new List<ConsumeResult<string, string>>();
        var atEnd = new HashSet<TopicPartition>();
        var deadline = DateTime.UtcNow + Deadline;
        while (messages.Count < expected || consumer.Assignment.Count == 0 || !consumer.Assignment.All(atEnd.Contains))
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"Consumed {messages.Count} of {expected} messages; {atEnd.Count} of {consumer.Assignment.Count} assigned partitions at their end.");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is null) continue;
            if (result.IsPartitionEOF)
            {
                atEnd.Add(result.TopicPartition);
                continue;
            }
            atEnd.Remove(result.TopicPartition);
            messages.Add(result);
        }
        return messages;
    }
}

/// <summary>Keeps every log line so tests can assert what an operator would read.</summary>
public sealed class RecordingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception)));
}
