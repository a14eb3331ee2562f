using Insights.DevStack.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.DevStack.Tests.Kafka;

/// <summary>A mock cluster in this process, for what the dev stack process does not expose.</summary>
public sealed class MockKafkaClusterTests
{
    [Fact]
    public void Configured_and_created_topics_have_exactly_their_partition_counts()
    {
        var configured = KafkaTest.UniqueName("configured");
        var created = KafkaTest.UniqueName("created");
        using var cluster = MockKafkaCluster.Start(
            new KafkaStackOptions { Port = 0, Brokers = 2, Topics = new() { [configured] = 7 } }, NullLogger.Instance);
        cluster.CreateTopic(created, 1);
        cluster.CreateTopic(configured, 3); // already exists: left as it is

        using var admin = KafkaTest.Admin(cluster.BootstrapServers);
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        int PartitionsOf(string topic)
        {
            var found = Assert.Single(metadata.Topics, t => t.Topic == topic);
            Assert.False(found.Error.IsError, $"{topic}: {found.Error.Reason}");
            return found.Partitions.Count;
        }

        Assert.Equal(7, PartitionsOf(configured));
        Assert.Equal(1, PartitionsOf(created));
    }

    [Fact]
    public void Start_tells_the_operator_that_data_lives_in_memory_only()
    {
        var log = new RecordingLogger();
        using var cluster = MockKafkaCluster.Start(new KafkaStackOptions { Port = 0, Topics = [] }, log);

        var line = Assert.Single(log.Entries, e => e.Message.Contains("in memory only", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains(cluster.BootstrapServers, line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_broker_ids_are_refused()
    {
        using var cluster = MockKafkaCluster.Start(new KafkaStackOptions { Port = 0, Topics = [] }, NullLogger.Instance);

        var error = Assert.Throws<InvalidOperationException>(() => cluster.SetBrokerDown(2));
        Assert.Contains("broker 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_disposed_cluster_refuses_further_use()
    {
        var cluster = MockKafkaCluster.Start(new KafkaStackOptions { Port = 0, Topics = [] }, NullLogger.Instance);
        cluster.Dispose();
        cluster.Dispose(); // twice is harmless

        Assert.Throws<ObjectDisposedException>(() => cluster.CreateTopic(KafkaTest.UniqueName("late"), 1));
    }
}
