using ClickHouse.Driver;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.Processors.Consuming;

namespace Insights.Processors.Tests;

/// <summary>The consumer loop's batch arithmetic and failure classification, without a broker.</summary>
public sealed class ConsumedBatchTests
{
    private static readonly byte[] Value = EventCodec.Encode(TestEvents.Pageviews(1)[0]);

    [Fact]
    public void Halves_keep_each_partition_in_order_and_store_offsets_past_their_own_messages()
    {
        var batch = Batch(("t", 0, 10), ("t", 1, 5), ("t", 0, 11), ("t", 1, 6), ("t", 0, 12));

        var (first, second) = batch.Split();

        Assert.Equal([10L, 5], first.Messages.Select(m => m.Offset.Value));
        Assert.Equal([11L, 6, 12], second.Messages.Select(m => m.Offset.Value));
        Assert.Equal((1, 1), (first.Depth, second.Depth));
        Assert.Equal([("t", 0, 11L), ("t", 1, 6L)], Offsets(first));
        Assert.Equal([("t", 0, 13L), ("t", 1, 7L)], Offsets(second));
    }

    [Theory]
    [InlineData(-10_000, 10)] // produced 10 s ago: it queued (or is a backlog), so the batch is 10 s old at once
    [InlineData(0, 0)]
    [InlineData(60_000, 0)] // a producer clock a minute ahead: the batch ages from when it was consumed here
    public void A_batch_is_as_old_as_its_first_message_by_its_kafka_timestamp_or_since_it_was_consumed(int producedMsFromNow, int expectedSeconds)
    {
        var batch = new ConsumedBatch();
        var message = Message("t", 0, 1, Value);
        message.Message.Timestamp = new Timestamp(DateTimeOffset.UtcNow.AddMilliseconds(producedMsFromNow));

        batch.Add(message);
        batch.Add(Message("t", 0, 2, Value));

        Assert.InRange(batch.Age, TimeSpan.FromSeconds(expectedSeconds), TimeSpan.FromSeconds(expectedSeconds + 5));
    }

    [Fact]
    public void A_message_without_a_timestamp_ages_from_when_it_was_consumed()
    {
        var batch = new ConsumedBatch();

        batch.Add(Message("t", 0, 1, Value));

        Assert.InRange(batch.Age, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(TimestampType.NotAvailable, batch.Messages[0].Message.Timestamp.Type);
    }

    [Fact]
    public void Abandoning_a_partition_drops_its_messages_and_the_handlers_work_but_keeps_other_offsets()
    {
        var batch = Batch(("t", 0, 10), ("t", 0, 11), ("t", 1, 5), ("t", 2, 7));
        batch.State = "prepared";

        var removed = batch.Abandon(new HashSet<TopicPartition> { new("t", 1) });

        Assert.Equal(1, removed);
        Assert.Null(batch.State);
        Assert.Equal([("t", 0, 12L), ("t", 2, 8L)], Offsets(batch));
    }

    [Fact]
    public void A_split_part_gets_a_token_of_its_own_and_the_same_part_always_the_same_token()
    {
        var whole = Batch(("t", 0, 1), ("t", 0, 2), ("t", 0, 3), ("t", 0, 4));
        var (first, second) = whole.Split();
        var again = Batch(("t", 0, 1), ("t", 0, 2), ("t", 0, 3), ("t", 0, 4)).Split().First;

        var tokens = new[] { whole, first, second }.Select(b => new EventBatch(b.Messages).DeduplicationToken()).ToList();

        Assert.Equal(3, tokens.Distinct().Count());
        Assert.Equal(tokens[1], new EventBatch(again.Messages).DeduplicationToken());
    }

    [Fact]
    public void Events_at_the_same_offsets_of_a_recreated_topic_get_another_token()
    {
        // Known answer: a topic recreated (offsets from 0 again) holds other events at the same positions; an
        // offsets-only token would make ClickHouse drop them as copies of the first ones.
        var before = new EventBatch([.. TestEvents.Pageviews(3, "before").Select((e, i) => Message("t", 0, i, EventCodec.Encode(e)))]);
        var after = new EventBatch([.. TestEvents.Pageviews(3, "after").Select((e, i) => Message("t", 0, i, EventCodec.Encode(e)))]);

        Assert.NotEqual(before.DeduplicationToken(), after.DeduplicationToken());
    }

    [Theory]
    [InlineData(210, FailureKind.Outage)] // NETWORK_ERROR: the dev stack's "ClickHouse down", a real server unreachable
    [InlineData(159, FailureKind.Outage)] // TIMEOUT_EXCEEDED
    [InlineData(241, FailureKind.Outage)] // MEMORY_LIMIT_EXCEEDED
    [InlineData(503, FailureKind.Outage)] // a proxy's "503 Service Unavailable" page
    [InlineData(27, FailureKind.Rejected)] // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    [InlineData(53, FailureKind.Rejected)] // TYPE_MISMATCH
    [InlineData(131, FailureKind.Rejected)] // TOO_LARGE_STRING_SIZE
    [InlineData(-1, FailureKind.Rejected)] // no code: an HTTP layer refused the request (414 URI too long, 413)
    [InlineData(60, FailureKind.Fatal)] // UNKNOWN_TABLE: the deployment, not the data
    [InlineData(516, FailureKind.Fatal)] // AUTHENTICATION_FAILED
    public void ClickHouse_errors_are_told_apart_by_their_code(int code, FailureKind expected) =>
        Assert.Equal(expected, Failures.Classify(new ClickHouseServerException($"Code: {code}. DB::Exception: x", "INSERT", code), CancellationToken.None));

    [Fact]
    public void Network_failures_and_timeouts_are_outages_and_handler_errors_are_refusals()
    {
        Assert.Equal(FailureKind.Outage, Failures.Classify(new HttpRequestException("connection refused"), CancellationToken.None));
        Assert.Equal(FailureKind.Outage, Failures.Classify(new TaskCanceledException("timeout"), CancellationToken.None));
        Assert.Equal(FailureKind.Outage, Failures.Classify(new KafkaException(ErrorCode.Local_MsgTimedOut), CancellationToken.None));
        Assert.Equal(FailureKind.Fatal, Failures.Classify(new KafkaException(new Error(ErrorCode.Local_Fatal, "fatal", isFatal: true)), CancellationToken.None));
        Assert.Equal(FailureKind.Rejected, Failures.Classify(new FormatException("bad value"), CancellationToken.None));
        Assert.Equal("handler_failed", Failures.ReasonOf(new FormatException("bad value")));
        Assert.Equal("request_refused", Failures.ReasonOf(new ClickHouseServerException("", "SELECT", -1)));
    }

    [Fact]
    public void A_dead_letter_carries_the_message_as_consumed_with_reason_stage_and_position()
    {
        var message = Message("insights.events", 3, 41, "{broken"u8.ToArray());
        message.Message.Headers.Add("trace", "t-1"u8.ToArray());
        var detail = new string('é', 2_000);

        var letter = DeadLetters.Letter("insights-processors", new Rejection(message, "clickhouse_rejected", detail, "processors.handle"));

        Assert.Equal("{broken"u8.ToArray(), letter.Value);
        string Header(string name) => System.Text.Encoding.UTF8.GetString(letter.Headers.GetLastBytes(name));
        Assert.Equal("t-1", Header("trace"));
        Assert.Equal("clickhouse_rejected", Header(EventCodec.DeadLetterReasonHeader));
        Assert.Equal("processors.handle", Header(DeadLetters.StageHeader));
        Assert.Equal("insights-processors", Header(EventCodec.DeadLetterSourceHeader));
        Assert.Equal(("insights.events", "3", "41"),
            (Header(EventCodec.DeadLetterTopicHeader), Header(EventCodec.DeadLetterPartitionHeader), Header(EventCodec.DeadLetterOffsetHeader)));
        Assert.Equal(512, Header(EventCodec.DeadLetterDetailHeader).Length); // cut at 1 KiB on a character boundary
    }

    private static ConsumedBatch Batch(params (string Topic, int Partition, long Offset)[] messages) =>
        new([.. messages.Select(m => Message(m.Topic, m.Partition, m.Offset, Value))]);

    private static List<(string, int, long)> Offsets(ConsumedBatch batch) =>
        [.. batch.NextOffsets().Select(o => (o.Topic, o.Partition.Value, o.Offset.Value)).OrderBy(o => o.Item2)];

    private static ConsumeResult<byte[]?, byte[]?> Message(string topic, int partition, long offset, byte[] value) => EventBatchTests.Message(topic, partition, offset, value);
}
