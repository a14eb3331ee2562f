using System.Text;
using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.Ingest.Tests.Integration;

/// <summary>Reads a test's topic the way a processor would, to the end, so a message that should not be there would be seen.</summary>
internal static class KafkaReader
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public sealed record Received(string Key, Dictionary<string, string> Headers, PipelineEvent Event, string Value);

    public static List<Received> ReadToEnd(string bootstrap, string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"ingest-tests.{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            AllowAutoCreateTopics = false,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = 1000,
            HeartbeatIntervalMs = 100,
        }).Build();
        consumer.Subscribe(topic);

        var messages = new List<Received>();
        var atEnd = new HashSet<TopicPartition>();
        var deadline = DateTime.UtcNow + Deadline;
        while (messages.Count < expected || consumer.Assignment.Count == 0 || !consumer.Assignment.All(atEnd.Contains))
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"Read {messages.Count} of {expected} messages from {topic}; {atEnd.Count} of {consumer.Assignment.Count} partitions at their end.");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                atEnd.Add(result.TopicPartition);
                continue;
            }

            atEnd.Remove(result.TopicPartition);
            var decoded = EventCodec.Decode(result.Message.Value);
            Assert.True(decoded.Event is not null, $"Undecodable message on {topic}: {decoded.Reason} {decoded.Detail}");
            messages.Add(new Received(
                Encoding.UTF8.GetString(result.Message.Key),
                (result.Message.Headers ?? []).ToDictionary(h => h.Key, h => Encoding.UTF8.GetString(h.GetValueBytes())),
                decoded.Event,
                Encoding.UTF8.GetString(result.Message.Value)));
        }

        consumer.Close();
        return messages;
    }
}
