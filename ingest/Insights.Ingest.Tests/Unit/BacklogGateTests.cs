using Confluent.Kafka;
using Insights.Ingest.Kafka;

namespace Insights.Ingest.Tests.Unit;

/// <summary>How the back-pressure gate measures the backlog and when it closes and opens (the broker side: Integration/BacklogTests).</summary>
public sealed class BacklogGateTests
{
    private const long Max = 1_000_000;

    private static WatermarkOffsets Marks(long low, long high) => new(new Offset(low), new Offset(high));

    [Fact]
    public void The_worst_partition_counts_from_the_slowest_commit_or_from_the_log_start_where_nothing_is_committed_or_the_broker_dropped_it()
    {
        WatermarkOffsets[] marks = [Marks(0, 1_000), Marks(500, 4_000), Marks(2_000, 3_000), Marks(0, 0)];

        // Partition 1 committed nothing: all 3,500 messages since its start are unread. Partition 2's commit (1,000) lies
        // before what the broker still holds (2,000): only the 1,000 held can be read.
        var measure = BacklogGate.Measure(marks, committed: [900, -1, 1_000, -1], previousCommitted: null, TimeSpan.FromSeconds(1), bytesPerMessage: 100);

        Assert.Equal(new BacklogMeasure(350_000, 1, 0), measure);
    }

    [Fact]
    public void Without_a_measured_message_size_nothing_is_measured()
    {
        var measure = BacklogGate.Measure([Marks(0, 1_000_000)], [0], null, TimeSpan.FromSeconds(1), bytesPerMessage: null);

        Assert.Equal(0, measure.WorstBytes);
        Assert.Equal(-1, measure.WorstPartition);
    }

    [Fact]
    public void The_drain_rate_is_the_worst_partitions_progress_since_the_last_check()
    {
        var measure = BacklogGate.Measure([Marks(0, 10_000), Marks(0, 50_000)], [9_000, 30_000], previousCommitted: [8_000, 28_000],
            TimeSpan.FromMilliseconds(500), bytesPerMessage: 10);

        Assert.Equal(1, measure.WorstPartition);
        Assert.Equal(200_000, measure.WorstBytes);
        Assert.Equal(2_000 / 0.5 * 10, measure.DrainedBytesPerSecond);
    }

    [Fact]
    public void Public_keys_are_refused_from_their_share_and_every_source_at_the_bound()
    {
        var open = BacklogState.Open;

        var below = BacklogGate.Next(open, new BacklogMeasure(899_999, 0, 0), Max, publicShare: 0.9);
        var publicOnly = BacklogGate.Next(open, new BacklogMeasure(900_000, 0, 0), Max, 0.9);
        var all = BacklogGate.Next(open, new BacklogMeasure(1_000_000, 0, 0), Max, 0.9);

        Assert.False(below.PublicClosed || below.AllClosed);
        Assert.True(publicOnly.PublicClosed);
        Assert.False(publicOnly.AllClosed);
        Assert.True(all.PublicClosed && all.AllClosed);
    }

    [Fact]
    public void A_closed_gate_opens_only_below_ninety_percent_of_where_it_closed()
    {
        var closed = BacklogGate.Next(BacklogState.Open, new BacklogMeasure(1_000_000, 3, 0), Max, 0.9);

        var stillClosed = BacklogGate.Next(closed, new BacklogMeasure(900_000, 3, 0), Max, 0.9);
        Assert.True(stillClosed.PublicClosed);
        Assert.True(stillClosed.AllClosed);

        // Under 90 % of the bound every source is taken again; public keys wait until under 90 % of their share.
        var serverOpen = BacklogGate.Next(stillClosed, new BacklogMeasure(850_000, 3, 0), Max, 0.9);
        Assert.False(serverOpen.AllClosed);
        Assert.True(serverOpen.PublicClosed);

        var open = BacklogGate.Next(serverOpen, new BacklogMeasure(809_999, 3, 0), Max, 0.9);
        Assert.False(open.PublicClosed || open.AllClosed);
    }

    [Theory]
    [InlineData(1_000_000, 19_000, 10)] // 190,000 bytes over the public reopening point (810,000) at 19,000 bytes/s
    [InlineData(1_000_000, 0, 5)] // nothing drained since the last check: the processors are stopped or starting
    [InlineData(5_000_000, 1, 60)] // never more than a minute
    [InlineData(810_001, 1_000_000, 1)] // never less than a second
    public void Retry_after_is_when_the_worst_partition_drains_back_under_the_public_gate(long worst, double drained, int seconds)
    {
        var state = BacklogGate.Next(BacklogState.Open, new BacklogMeasure(worst, 0, drained), Max, 0.9);

        Assert.Equal(TimeSpan.FromSeconds(seconds), state.RetryAfter);
    }

    [Fact]
    public void The_wire_size_comes_from_the_top_level_totals_of_librdkafkas_statistics()
    {
        // The shape librdkafka emits, cut short: the same names further down (a broker's, a partition's) are not the totals.
        const string statistics = """
            {"name":"insights-ingest#producer-1","type":"producer","ts":5,"tx":40,"brokers":{"127.0.0.1:9092/1":{"tx":38,"txbytes":9,"tx_bytes":7}},
             "topics":{"insights.events":{"batchsize":{"avg":5000},"partitions":{"0":{"txmsgs":3,"txbytes":4}}}},
             "tx_bytes":123456,"rx":40,"txmsgs":1000,"txmsg_bytes":400000}
            """;

        Assert.Equal((123_456L, 1_000L), KafkaEventSink.StatisticsTotals(statistics));
        Assert.Null(KafkaEventSink.StatisticsTotals("""{"name":"x","tx_bytes":5}"""));
    }
}
