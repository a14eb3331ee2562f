using System.Text;
using Confluent.Kafka;
using Insights.DevStack.Kafka;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Insights.DevStack.Tests.Kafka;

/// <summary>Real Confluent.Kafka clients against the mock cluster over loopback TCP.</summary>
public sealed class MockKafkaClusterTests(MockKafkaClusterFixture fixture) : IClassFixture<MockKafkaClusterFixture>
{
    private readonly MockKafkaCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task Idempotent_producer_keys_and_headers_arrive_intact()
    {
        var topic = KafkaTest.UniqueName("headers");
        _cluster.CreateTopic(topic, 3);
        byte[] binary = [0x00, 0xff, 0xfe, 0x80, 0x0a];
        var sent = Enumerable.Range(0, 30).Select(i => new Message<string, string>
        {
            Key = $"key-{i}",
            Value = $"{{\"n\":{i},\"text\":\"h\u00e9llo \u2603\"}}",
            Headers = new Headers
            {
                { "event-id", Encoding.UTF8.GetBytes(Guid.NewGuid().ToString()) },
                { "binary", binary },
                { "empty", [] },
                { "repeated", "first"u8.ToArray() },
                { "repeated", "second"u8.ToArray() },
            },
        }).ToList();

        using (var producer = KafkaTest.Producer(_cluster.BootstrapServers))
        {
            foreach (var message in sent)
            {
                var delivery = await producer.ProduceAsync(topic, message, TestContext.Current.CancellationToken);
                Assert.Equal(PersistenceStatus.Persisted, delivery.Status);
            }
        }

        using var consumer = KafkaTest.Consumer(_cluster.BootstrapServers, KafkaTest.UniqueName("headers-reader"));
        consumer.Subscribe(topic);
        var received = KafkaTest.ConsumeToEnd(consumer, sent.Count).ToDictionary(r => r.Message.Key);
        consumer.Close();

        Assert.Equal(sent.Count, received.Count);
        foreach (var message in sent)
        {
            var got = received[message.Key].Message;
            Assert.Equal(message.Value, got.Value);
            Assert.Equal(
                message.Headers.Select(h => (h.Key, Convert.ToHexString(h.GetValueBytes()))),
                got.Headers.Select(h => (h.Key, Convert.ToHexString(h.GetValueBytes()))));
        }
    }

    [Fact]
    public async Task Consumer_group_shares_partitions_and_a_new_member_resumes_from_committed_offsets()
    {
        var topic = KafkaTest.UniqueName("group");
        var group = KafkaTest.UniqueName("group-members");
        const int partitions = 6;
        _cluster.CreateTopic(topic, partitions);
        using var producer = KafkaTest.Producer(_cluster.BootstrapServers);

        var first = KafkaTest.Consumer(_cluster.BootstrapServers, group);
        var second = KafkaTest.Consumer(_cluster.BootstrapServers, group);
        try
        {
            first.Subscribe(topic);
            second.Subscribe(topic);
            // Produce only once the group has settled, so neither member can drain the topic alone.
            var deadline = DateTime.UtcNow + KafkaTest.Deadline;
            while (!(first.Assignment.Count > 0 && second.Assignment.Count > 0
                     && first.Assignment.Count + second.Assignment.Count == partitions
                     && !first.Assignment.Intersect(second.Assignment).Any()))
            {
                Assert.True(DateTime.UtcNow < deadline,
                    $"The group did not split {partitions} partitions between two members: {first.Assignment.Count} + {second.Assignment.Count}.");
                Assert.Null(Message(first.Consume(TimeSpan.FromMilliseconds(50))));
                Assert.Null(Message(second.Consume(TimeSpan.FromMilliseconds(50))));
            }

            var before = await ProduceAsync(producer, topic, "before", 120);
            var firstShare = new List<string>();
            var secondShare = new List<string>();
            while (firstShare.Count + secondShare.Count < before.Count)
            {
                Assert.True(DateTime.UtcNow < deadline,
                    $"The group consumed {firstShare.Count} + {secondShare.Count} of {before.Count} messages.");
                if (Message(first.Consume(TimeSpan.FromMilliseconds(20))) is { } a) firstShare.Add(a.Key);
                if (Message(second.Consume(TimeSpan.FromMilliseconds(20))) is { } b) secondShare.Add(b.Key);
            }
            first.Commit();
            second.Commit();

            Assert.NotEmpty(firstShare);
            Assert.NotEmpty(secondShare);
            Assert.Empty(firstShare.Intersect(secondShare));
            Assert.Equal(before.Order(), firstShare.Concat(secondShare).Order());

            first.Close();
            second.Close();
        }
        finally
        {
            first.Dispose();
            second.Dispose();
        }

        var after = await ProduceAsync(producer, topic, "after", 60);
        using var successor = KafkaTest.Consumer(_cluster.BootstrapServers, group);
        successor.Subscribe(topic);
        var resumed = KafkaTest.ConsumeToEnd(successor, after.Count);
        successor.Close();

        Assert.Equal(after.Order(), resumed.Select(r => r.Message.Key).Order());
    }

    [Fact]
    public void Configured_topics_have_exactly_their_partition_counts()
    {
        var created = KafkaTest.UniqueName("partitions");
        _cluster.CreateTopic(created, 7);
        _cluster.CreateTopic(created, 3); // already exists: left as it is

        using var admin = KafkaTest.Admin(_cluster.BootstrapServers);
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        int PartitionsOf(string topic)
        {
            var found = Assert.Single(metadata.Topics, t => t.Topic == topic);
            Assert.False(found.Error.IsError, $"{topic}: {found.Error.Reason}");
            return found.Partitions.Count;
        }

        Assert.Equal(12, PartitionsOf("insights.events"));
        Assert.Equal(12, PartitionsOf("insights.enriched"));
        Assert.Equal(4, PartitionsOf("insights.dlq"));
        Assert.Equal(7, PartitionsOf(created));
    }

    [Fact]
    public void Start_tells_the_operator_that_data_lives_in_memory_only()
    {
        var line = Assert.Single(fixture.Log.Entries, e => e.Message.Contains("in memory only", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains(_cluster.BootstrapServers, line.Message, StringComparison.Ordinal);
    }

    private static Message<string, string>? Message(ConsumeResult<string, string>? result) =>
        result is null || result.IsPartitionEOF ? null : result.Message;

    private static async Task<List<string>> ProduceAsync(IProducer<string, string> producer, string topic, string prefix, int count)
    {
        var keys = Enumerable.Range(0, count).Select(i => $"{prefix}-{i}").ToList();
        var deliveries = keys.Select(key => producer.ProduceAsync(topic, new Message<string, string> { Key = key, Value = key },
            TestContext.Current.CancellationToken));
        await Task.WhenAll(deliveries);
        return keys;
    }
}
