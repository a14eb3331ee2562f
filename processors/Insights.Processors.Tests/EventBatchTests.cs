using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.Processors.Tests;

public sealed class EventBatchTests
{
    private static readonly byte[] Value = EventCodec.Encode(TestEvents.Pageviews(1)[0]);

    [Fact]
    public void The_same_messages_give_the_same_token_in_any_order_and_other_messages_another()
    {
        var a = Batch(("t", 0, 10), ("t", 0, 11), ("t", 1, 5));
        var b = Batch(("t", 1, 5), ("t", 0, 11), ("t", 0, 10));
        var c = Batch(("t", 0, 10), ("t", 0, 11), ("t", 1, 6));

        Assert.Equal(a.DeduplicationToken(), b.DeduplicationToken());
        Assert.NotEqual(a.DeduplicationToken(), c.DeduplicationToken());
    }

    [Fact]
    public void Abandoning_a_partition_drops_its_messages_changes_the_token_and_keeps_other_offsets()
    {
        var batch = Batch(("t", 0, 10), ("t", 0, 11), ("t", 1, 5), ("t", 2, 7));
        var before = batch.DeduplicationToken();

        var removed = batch.Abandon([new TopicPartition("t", 1)]);

        Assert.Equal(1, removed);
        Assert.NotEqual(before, batch.DeduplicationToken());
        Assert.Equal(
            [("t", 0, 12L), ("t", 2, 8L)],
            batch.NextOffsets().Select(o => (o.Topic, o.Partition.Value, o.Offset.Value)).OrderBy(o => o.Item2));
    }

    [Fact]
    public void A_poison_message_is_kept_for_its_offset_but_yields_no_row()
    {
        var batch = Batch(("t", 0, 1));
        batch.Add(Message("t", 0, 2, "garbage"u8.ToArray()));

        Assert.Single(batch.Rows());
        Assert.Equal(3, batch.NextOffsets().Single().Offset.Value);
        Assert.Equal("undecodable", batch.Entries[1].Mapped.Reason);
    }

    [Fact]
    public void A_row_the_driver_cannot_encode_becomes_poison_and_leaves_the_rest_to_be_written()
    {
        var batch = Batch(("t", 0, 1));
        batch.Add(Message("t", 0, 2, "garbage"u8.ToArray()));
        batch.Add(Message("t", 0, 3, Value));

        batch.PoisonRow(1, "cannot encode");

        Assert.Single(batch.Rows());
        Assert.Equal("unwritable", batch.Entries[2].Mapped.Reason);
        Assert.Null(batch.Entries[0].Mapped.Reason);
        Assert.Equal(4, batch.NextOffsets().Single().Offset.Value);
    }

    private static EventBatch Batch(params (string Topic, int Partition, long Offset)[] messages)
    {
        var batch = new EventBatch();
        foreach (var (topic, partition, offset) in messages)
        {
            batch.Add(Message(topic, partition, offset, Value));
        }

        return batch;
    }

    private static ConsumeResult<byte[]?, byte[]?> Message(string topic, int partition, long offset, byte[] value) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(topic, partition, offset),
        Message = new Message<byte[]?, byte[]?> { Key = null, Value = value, Headers = [] },
    };
}
