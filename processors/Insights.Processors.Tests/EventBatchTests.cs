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
    public void A_poison_message_is_kept_for_its_offset_but_yields_no_row()
    {
        var batch = new EventBatch([Message("t", 0, 1, Value), Message("t", 0, 2, "garbage"u8.ToArray())]);

        Assert.Single(batch.Rows());
        var rejection = Assert.Single(batch.Rejections());
        Assert.Equal(("undecodable", 2L, "processors.decode"), (rejection.Reason, rejection.Message.Offset.Value, rejection.Stage));
        Assert.Equal("undecodable", batch.Entries[1].Mapped.Reason);
    }

    [Fact]
    public void A_row_the_driver_cannot_encode_becomes_poison_and_leaves_the_rest_to_be_written()
    {
        var batch = new EventBatch([Message("t", 0, 1, Value), Message("t", 0, 2, "garbage"u8.ToArray()), Message("t", 0, 3, Value)]);

        batch.PoisonRow(1, "cannot encode");

        Assert.Single(batch.Rows());
        Assert.Equal("unwritable", batch.Entries[2].Mapped.Reason);
        Assert.Null(batch.Entries[0].Mapped.Reason);
        Assert.Equal([2L, 3L], batch.Rejections().Select(r => r.Message.Offset.Value));
    }

    private static EventBatch Batch(params (string Topic, int Partition, long Offset)[] messages) =>
        new([.. messages.Select(m => Message(m.Topic, m.Partition, m.Offset, Value))]);

    internal static ConsumeResult<byte[]?, byte[]?> Message(string topic, int partition, long offset, byte[] value) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(topic, partition, offset),
        Message = new Message<byte[]?, byte[]?> { Key = null, Value = value, Headers = [] },
    };
}
