using Confluent.Kafka;
using Insights.DevStack.Kafka;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.DevStack.Tests.Kafka;

/// <summary>Owns its cluster: taking a broker down would break every other test sharing one.</summary>
public sealed class BrokerOutageTests
{
    [Fact]
    public async Task Delivery_fails_while_the_broker_is_down_and_a_retry_succeeds_once_it_is_back()
    {
        using var cluster = MockKafkaCluster.Start(new KafkaStackOptions { Port = 0, Topics = [] }, NullLogger.Instance);
        var topic = KafkaTest.UniqueName("outage");
        cluster.CreateTopic(topic, 1);
        // What the ingest service's 503 path relies on: a short message timeout turns an outage into a
        // failed delivery instead of a request that hangs.
        using var producer = KafkaTest.Producer(cluster.BootstrapServers, config =>
        {
            config.MessageTimeoutMs = 1000;
            config.ReconnectBackoffMs = 20;
            config.ReconnectBackoffMaxMs = 100;
        });
        var cancellationToken = TestContext.Current.CancellationToken;
        // The first delivery also waits for the connection and producer id, which can outlast a short
        // timeout on a busy machine.
        var before = await ProduceWithRetriesAsync(producer, topic, "before", cancellationToken);

        cluster.SetBrokerDown(1);
        var failure = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "during" }, cancellationToken));
        Assert.Equal(ErrorCode.Local_MsgTimedOut, failure.Error.Code);
        Assert.Equal(PersistenceStatus.NotPersisted, failure.DeliveryResult.Status);

        cluster.SetBrokerUp(1);
        // The producer notices the broker's return on its own schedule (about a second here), so
        // retry as an ingest client answered 503 would.
        var after = await ProduceWithRetriesAsync(producer, topic, "after", cancellationToken);

        using var consumer = KafkaTest.Consumer(cluster.BootstrapServers, KafkaTest.UniqueName("outage-reader"));
        consumer.Subscribe(topic);
        var stored = KafkaTest.ConsumeToEnd(consumer, 2).Select(r => r.Message.Value).ToList();
        consumer.Close();
        Assert.Contains(before, stored);
        Assert.Equal(after, stored[^1]);
        Assert.DoesNotContain("during", stored);
    }

    // Returns the value that was delivered; attempts that timed out carry other values.
    private static async Task<string> ProduceWithRetriesAsync(IProducer<string, string> producer, string topic, string prefix,
        CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        for (var attempt = 1; ; attempt++)
        {
            Assert.True(DateTime.UtcNow < deadline, $"No '{prefix}' delivery succeeded within 10 s.");
            try
            {
                var delivery = await producer.ProduceAsync(topic,
                    new Message<string, string> { Key = "k", Value = $"{prefix}-{attempt}" }, cancellationToken);
                Assert.Equal(PersistenceStatus.Persisted, delivery.Status);
                return delivery.Message.Value;
            }
            catch (ProduceException<string, string> e) when (e.Error.Code == ErrorCode.Local_MsgTimedOut)
            {
            }
        }
    }
}
