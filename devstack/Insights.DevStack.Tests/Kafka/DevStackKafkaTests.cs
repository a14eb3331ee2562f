using System.Text;
using Confluent.Kafka;
using Insights.DevStack.Testing;

namespace Insights.DevStack.Tests.Kafka;

/// <summary>
/// Real Confluent.Kafka clients in this process against the dev stack's broker in its own process,
/// as every service will use it. Each test has its own topics and groups.
/// </summary>
public sealed class DevStackKafkaTests(DevStackFixture stack)
{
    [Fact]
    public async Task Idempotent_producer_keys_and_headers_arrive_intact()
    {
        var topic = DevStackFixture.NewTopicName("kafka-headers");
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

        using (var producer = KafkaTest.Producer(stack.KafkaBootstrap))
        {
            foreach (var message in sent)
            {
                var delivery = await producer.ProduceAsync(topic, message, TestContext.Current.CancellationToken);
                Assert.Equal(PersistenceStatus.Persisted, delivery.Status);
            }
        }

        using var consumer = KafkaTest.Consumer(stack.KafkaBootstrap, KafkaTest.UniqueName("headers-reader"));
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
        var topic = DevStackFixture.NewTopicName("kafka-group");
        var group = KafkaTest.UniqueName("group-members");
        var partitions = KafkaTest.AutoCreateTopic(stack.KafkaBootstrap, topic);
        Assert.True(partitions > 1, $"{topic} has {partitions} partition(s); two members need more to share.");
        using var producer = KafkaTest.Producer(stack.KafkaBootstrap);

        // The mock gives each phase of a rebalance (every member rejoins, every member syncs) about one session
        // timeout. With the 1 s of the other tests, CI once saw the two members still at 0 + 4 after 20 s on a machine
        // busy with other test projects. Every member of this group, the successor too, gets 6 s: a group whose members
        // disagree on it never assigned the successor anything here. It makes the test take longer, since the mock
        // waits out most of a phase before it elects a leader.
        var first = KafkaTest.Consumer(stack.KafkaBootstrap, group, SlackSession);
        var second = KafkaTest.Consumer(stack.KafkaBootstrap, group, SlackSession);
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
        using var successor = KafkaTest.Consumer(stack.KafkaBootstrap, group, SlackSession);
        successor.Subscribe(topic);
        var resumed = KafkaTest.ConsumeToEnd(successor, after.Count);
        successor.Close();

        Assert.Equal(after.Order(), resumed.Select(r => r.Message.Key).Order());
    }

    [Fact]
    public void The_pipeline_topics_exist_with_their_configured_partition_counts()
    {
        using var admin = KafkaTest.Admin(stack.KafkaBootstrap);

        // Metadata only: the mock cannot answer CreateTopics or DescribeCluster.
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));

        foreach (var (topic, partitions) in new[] { ("insights.events", 12), ("insights.enriched", 12), ("insights.dlq", 4) })
        {
            var found = Assert.Single(metadata.Topics, t => t.Topic == topic);
            Assert.False(found.Error.IsError, $"{topic}: {found.Error.Reason}");
            Assert.Equal(partitions, found.Partitions.Count);
        }
    }

    private static void SlackSession(ConsumerConfig config) => config.SessionTimeoutMs = 6000;

    private static Message<string, string>? Message(ConsumeResult<string, string>? result) =>
        result is null || result.IsPartitionEOF ? null : result.Message;

    private static async Task<List<string>> ProduceAsync(IProducer<string, string> producer, string topic, string prefix, int count)
    {
        var keys = Enumerable.Range(0, count).Select(i => $"{prefix}-{i}").ToList();
        await Task.WhenAll(keys.Select(key => producer.ProduceAsync(topic, new Message<string, string> { Key = key, Value = key },
            TestContext.Current.CancellationToken)));
        return keys;
    }
}
