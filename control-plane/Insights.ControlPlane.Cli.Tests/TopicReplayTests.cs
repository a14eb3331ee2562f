using System.Text;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.ControlPlane.Cli.Events;
using Insights.DevStack.Testing;

namespace Insights.ControlPlane.Cli.Tests;

/// <summary>
/// The replay against the dev stack's Kafka-protocol broker: the range found by timestamps, the site filter, a dry run
/// that sends nothing, and copies that are the originals plus the replay header, without chasing its own copies.
/// </summary>
public sealed class TopicReplayTests(DevStackFixture stack) : IClassFixture<DevStackFixture>
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_range_of_one_sites_messages_is_found_by_time_counted_on_a_dry_run_and_replayed_once_with_the_header()
    {
        var topic = DevStackFixture.NewTopicName("replay");
        // Hour 0: before the range; hours 1-2: inside; hour 3: after. Two sites, several visitors (so several partitions).
        var sent = new List<(string Key, string Value, DateTimeOffset At)>();
        for (var hour = 0; hour < 4; hour++)
        {
            for (var i = 0; i < 20; i++)
            {
                var site = i % 4 == 0 ? "rival" : "shop";
                var at = Start.AddHours(hour).AddMinutes(i);
                var e = new PipelineEvent
                {
                    EventId = $"e-{hour}-{i}", SiteId = site, Type = i % 5 == 1 ? EventTypes.Track : EventTypes.Pageview, Name = i % 5 == 1 ? "Signed Up" : null,
                    AnonymousId = $"visitor-{i}", Title = "ünïcode", Timestamp = at, ReceivedAt = at,
                };
                sent.Add(($"{site}:visitor-{i}", Encoding.UTF8.GetString(EventCodec.Encode(e)), at));
            }
        }

        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = stack.KafkaBootstrap, EnableIdempotence = true }).Build())
        {
            foreach (var (key, value, at) in sent)
            {
                await producer.ProduceAsync(topic, new Message<byte[], byte[]>
                {
                    Key = Encoding.UTF8.GetBytes(key), Value = Encoding.UTF8.GetBytes(value), Timestamp = new Timestamp(at),
                    Headers = new Headers { { "trace", "t-1"u8.ToArray() } },
                }, Ct);
            }
        }

        var plan = new ReplayPlan { BootstrapServers = stack.KafkaBootstrap, Topic = topic, From = Start.AddHours(1), To = Start.AddHours(3), Site = "shop", DryRun = true };
        var expected = sent.Where(m => m.At >= plan.From && m.At < plan.To && m.Key.StartsWith("shop:", StringComparison.Ordinal)).ToList();
        Assert.Equal(30, expected.Count);

        var dry = await new TopicReplay(Quiet(), TimeProvider.System).RunAsync(plan, Ct);
        Assert.Equal(30, dry.Replayed);
        Assert.Equal(24, dry.ByKind[("shop", "pageview")]); // the type is read from the value: messages carry no type header
        Assert.Equal(6, dry.ByKind[("shop", "track")]);
        Assert.False(dry.ByKind.ContainsKey(("rival", "pageview")));
        // The mock broker keeps no time index (every lookup answers "the end"): the partitions are read from their start
        // and each message's timestamp decides. A real broker's OffsetsForTimes would start at hour 1.
        Assert.InRange(dry.Scanned, 40, 80);
        Assert.Equal(80, ReadAll(topic).Count);

        var done = await new TopicReplay(Quiet(), TimeProvider.System).RunAsync(plan with { DryRun = false }, Ct);
        Assert.Equal(30, done.Replayed);
        var all = ReadAll(topic);
        Assert.Equal(110, all.Count);
        var copies = all.Where(m => m.Message.Headers.TryGetLastBytes(EventCodec.ReplayHeader, out _)).ToList();
        Assert.Equal(30, copies.Count);
        // Same key (so the same partition and processor), same value and timestamp, the original's headers kept.
        Assert.Equal(expected.Select(m => (m.Key, m.Value, m.At.ToUnixTimeMilliseconds())).Order(),
            copies.Select(c => (Encoding.UTF8.GetString(c.Message.Key), Encoding.UTF8.GetString(c.Message.Value), c.Message.Timestamp.UnixTimestampMs)).Order());
        Assert.All(copies, c => Assert.Equal("t-1"u8.ToArray(), c.Message.Headers.GetLastBytes("trace")));
        var origins = copies.Select(c => Encoding.ASCII.GetString(c.Message.Headers.GetLastBytes(EventCodec.ReplayHeader))).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(30, origins.Count);
        var byPosition = all.ToDictionary(m => $"{m.Partition.Value}:{m.Offset.Value}", StringComparer.Ordinal);
        Assert.All(origins, o => Assert.Equal(
            Encoding.UTF8.GetString(byPosition[o].Message.Value),
            Encoding.UTF8.GetString(copies.Single(c => Encoding.ASCII.GetString(c.Message.Headers.GetLastBytes(EventCodec.ReplayHeader)) == o).Message.Value)));

        // A range after every message reads nothing: each partition's newest message is older than it.
        var nothing = await new TopicReplay(Quiet(), TimeProvider.System).RunAsync(plan with { From = Start.AddHours(5), To = Start.AddHours(6) }, Ct);
        Assert.Equal((0L, 0L), (nothing.Scanned, nothing.Replayed));
    }

    [Fact]
    public async Task A_missing_topic_and_an_unreachable_broker_are_named()
    {
        var missing = await Assert.ThrowsAsync<AdminException>(() => new TopicReplay(Quiet(), TimeProvider.System).RunAsync(
            new ReplayPlan { BootstrapServers = stack.KafkaBootstrap, Topic = "no.such.topic." + Guid.NewGuid().ToString("N"), From = Start, To = Start.AddHours(1) }, Ct));
        Assert.Contains("no topic", missing.Message, StringComparison.Ordinal);

        var port = TestProcess.FreePorts(1)[0];
        var down = await Assert.ThrowsAsync<AdminException>(() => new TopicReplay(Quiet(), TimeProvider.System).RunAsync(
            new ReplayPlan { BootstrapServers = $"127.0.0.1:{port}", Topic = "insights.events", From = Start, To = Start.AddHours(1) }, Ct));
        Assert.Equal(ExitCodes.Unavailable, down.ExitCode);
        Assert.Contains($"127.0.0.1:{port}", down.Message, StringComparison.Ordinal);
    }

    private static ProgressMeter Quiet() => new(TextWriter.Null, ProgressMode.None, "replay", 0, TimeProvider.System, TimeSpan.FromSeconds(1));

    private List<ConsumeResult<byte[], byte[]>> ReadAll(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = stack.KafkaBootstrap, GroupId = $"reader-{Guid.NewGuid():N}", EnableAutoCommit = false, EnablePartitionEof = true,
        }).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = stack.KafkaBootstrap }).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)));
        var messages = new List<ConsumeResult<byte[], byte[]>>();
        var atEnd = new HashSet<int>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (atEnd.Count < partitions.Count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"read {messages.Count} messages of {topic}, {atEnd.Count} of {partitions.Count} partitions at their end");
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { } result)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                atEnd.Add(result.Partition.Value);
                continue;
            }

            messages.Add(result);
        }

        return messages;
    }
}
