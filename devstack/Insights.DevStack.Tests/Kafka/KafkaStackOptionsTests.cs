using Insights.DevStack.Kafka;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.DevStack.Tests.Kafka;

public sealed class KafkaStackOptionsTests
{
    [Fact]
    public void Defaults_are_usable_and_create_the_pipeline_topics()
    {
        var options = new KafkaStackOptions();

        Assert.Empty(options.Validate());
        Assert.Equal(9092, options.Port);
        Assert.Equal(
            [("insights.dlq", 4), ("insights.enriched", 12), ("insights.events", 12)],
            options.Topics.Select(t => (t.Key, t.Value)).Order());
    }

    [Fact]
    public void Start_refuses_settings_it_cannot_honour_and_names_each_one()
    {
        var options = new KafkaStackOptions
        {
            Port = 70000,
            Brokers = 0,
            InitialRebalanceDelayMs = -1,
            Topics = new() { ["no partitions"] = 0 },
        };

        var error = Assert.Throws<InvalidOperationException>(() => MockKafkaCluster.Start(options, NullLogger.Instance));

        Assert.Contains("Kafka:Port", error.Message, StringComparison.Ordinal);
        Assert.Contains("Kafka:Brokers", error.Message, StringComparison.Ordinal);
        Assert.Contains("Kafka:InitialRebalanceDelayMs", error.Message, StringComparison.Ordinal);
        Assert.Contains("Kafka:Topics:no partitions is not a Kafka topic name", error.Message, StringComparison.Ordinal);
        Assert.Contains("Kafka:Topics:no partitions must have at least 1 partition", error.Message, StringComparison.Ordinal);
    }
}
