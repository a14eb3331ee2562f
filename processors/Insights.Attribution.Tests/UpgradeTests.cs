using Confluent.Kafka;
using Insights.Attribution.Tests.Support;
using Insights.DevStack.Testing;
using static Insights.Attribution.Tests.Support.Ev;

namespace Insights.Attribution.Tests;

/// <summary>
/// Attribution used to be a consumer group of its own and could lag behind the processors. A processor that takes over
/// attribution resumes where the attribution group stopped, so the events in between are attributed, not skipped.
/// </summary>
public sealed class UpgradeTests(DevStackFixture stack)
{
    [Fact]
    public async Task A_processor_resumes_where_the_attribution_group_stopped()
    {
        var pipeline = await DevStackPipeline.CreateAsync(stack);
        await pipeline.ProduceAsync([ChatStarted("c1", "v1", T.Hours(-1)), Order("o1", "v1", T, 42.5m), Order("o2", "v9", T, 7m)]);

        // As an older version leaves the groups: the processors have read everything, attribution nothing yet.
        var partitions = Partitions(pipeline.Topic);
        using (var reader = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = stack.KafkaBootstrap, GroupId = "upgrade-reader" }).Build())
        {
            Commit(pipeline.ProcessorsGroupId, [.. partitions.Select(tp => new TopicPartitionOffset(tp, reader.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High))]);
        }

        Commit(pipeline.GroupId, [.. partitions.Select(tp => new TopicPartitionOffset(tp, 0))]);
        Assert.True(ConsumerLag.Of(stack.KafkaBootstrap, pipeline.GroupId, pipeline.Topic) == 3, "attribution is 3 events behind");
        Assert.Equal(0, ConsumerLag.Of(stack.KafkaBootstrap, pipeline.ProcessorsGroupId, pipeline.Topic));

        await using var processors = await pipeline.StartProcessorsAsync();

        await Eventually.TrueAsync(async () => await pipeline.ScalarAsync<ulong>(
            "SELECT count() FROM attribution_credits FINAL WHERE order_id = 'o1' AND model = 'last_chat' AND chat_id = 'c1' AND share = 1") == 1,
            "the order the attribution group had not reached is credited");
        await Eventually.TrueAsync(() => Task.FromResult(pipeline.CaughtUp()), "the attribution group's offsets follow again");
        Assert.Equal(2UL, await pipeline.ScalarAsync<ulong>("SELECT count() FROM orders FINAL"));
    }

    private List<TopicPartition> Partitions(string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = stack.KafkaBootstrap }).Build();
        return [.. admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId))];
    }

    private void Commit(string group, List<TopicPartitionOffset> offsets)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = stack.KafkaBootstrap, GroupId = group }).Build();
        consumer.Commit(offsets);
    }
}
