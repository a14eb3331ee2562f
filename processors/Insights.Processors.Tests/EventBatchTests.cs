using System.Security.Cryptography;
using System.Text;
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

    [Fact]
    public void The_token_is_the_hash_of_the_offset_ranges_the_count_and_the_sorted_event_ids_one_per_line()
    {
        // Replays across an upgrade must keep being recognised: the token stays the SHA-256 of this one text, however it
        // is worked out. Ids of every length (past the short-id buffer), non-ASCII, and an undecodable message ("").
        var ids = new[] { "b-1", "a-2", new string('x', 300), "ü-3", "é" + new string('y', 90) };
        var messages = ids.Select((id, i) => Message("t", i % 2, 100 + i, EventCodec.Encode(TestEvents.Pageviews(1)[0] with { EventId = id })))
            .Append(Message("t", 0, 7, "garbage"u8.ToArray()))
            .ToList();
        var batch = new EventBatch(messages);

        var text = "t/0:7-104;t/1:101-103;n=6;" + string.Concat(ids.Append("").Order(StringComparer.Ordinal).Select(id => id + "\n"));
        var expected = "insights-processors:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

        Assert.Equal(expected, batch.DeduplicationToken());
        Assert.Same(batch.DeduplicationToken(), batch.DeduplicationToken());
        batch.PoisonRow(0, "cannot encode");
        Assert.Equal(expected, batch.DeduplicationToken());
    }

    [Fact]
    public void A_large_batch_is_mapped_in_slices_and_keeps_every_message_in_its_place()
    {
        // Past one slice the messages are mapped on several threads: every entry must still be its own message's, in
        // the order consumed, with poison where the message is poison.
        var messages = Enumerable.Range(0, 20_000)
            .Select(i => Message("t", i % 3, i, i % 997 == 0
                ? "garbage"u8.ToArray()
                : EventCodec.Encode(TestEvents.Pageviews(1)[0] with { EventId = "e-" + i, Url = "https://shop.example/p/" + i })))
            .ToList();

        var batch = new EventBatch(messages);

        Assert.Equal(messages.Count, batch.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            var entry = batch.Entries[i];
            Assert.Same(messages[i], entry.Message);
            if (i % 997 == 0)
            {
                Assert.Equal("undecodable", entry.Mapped.Reason);
            }
            else
            {
                Assert.Equal(("e-" + i, "/p/" + i), ((string)entry.Mapped.Row![0], (string)entry.Mapped.Row[EnrichedRowMapper.PathColumn]));
            }
        }

        Assert.Equal(messages.Count(m => m.Offset.Value % 997 == 0), batch.Rejections().Count);
    }

    private static EventBatch Batch(params (string Topic, int Partition, long Offset)[] messages) =>
        new([.. messages.Select(m => Message(m.Topic, m.Partition, m.Offset, Value))]);

    internal static ConsumeResult<byte[]?, byte[]?> Message(string topic, int partition, long offset, byte[] value) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(topic, partition, offset),
        Message = new Message<byte[]?, byte[]?> { Key = null, Value = value, Headers = [] },
    };
}
