using System.Globalization;
using System.Net;
using System.Text;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Insights.Processors.Consuming;

namespace Insights.Processors.Tests;

/// <summary>
/// Fault runs on the dev stack, each ending with exact counts (every event once): a batch refused for its contents,
/// processors killed with SIGKILL under load, one of two group members killed, the broker down and up, and a topic
/// recreated with other events at the same offsets. ClickHouse down/up is in <see cref="CrashAndOutageTests"/>.
/// </summary>
public sealed class FaultRunTests(DevStackFixture stack) : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);
    private readonly string work = Directory.CreateTempSubdirectory("insights-faults-").FullName;

    [Fact]
    public async Task A_batch_refused_for_some_events_is_split_until_they_are_dead_lettered_and_the_rest_is_written()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "split");
        var good = TestEvents.Pageviews(400, "good");
        var refused = TestEvents.Pageviews(3, "refused").Select(e => e with { Title = "refuse-me \u2603" }).ToList();
        using (var producer = pipeline.Producer())
        {
            await pipeline.ProduceAsync(producer, good[..150]);
            await pipeline.ProduceAsync(producer, refused[..1]);
            await pipeline.ProduceAsync(producer, good[150..300]);
            await pipeline.ProduceAsync(producer, refused[1..]);
            await pipeline.ProduceAsync(producer, good[300..]);
        }

        var settings = pipeline.Settings(batchMaxEvents: 100);
        settings["Processors:Fault:RejectValueContaining"] = "refuse-me";
        await using var processor = new InProcessProcessor(settings);
        using var http = await processor.StartAsync();

        await Eventually.EqualAsync((ulong)good.Count, pipeline.CountFinalAsync, "the rest of every refused batch written", context: () => processor.Logs);
        var dead = pipeline.ReadAll(pipeline.DeadLetterTopic, refused.Count, Eventually.Timeout);
        var positions = pipeline.ReadAll(pipeline.Topic, good.Count + refused.Count, Eventually.Timeout)
            .ToDictionary(m => EventCodec.Decode(m.Message.Value).Event!.EventId, m => m.TopicPartitionOffset);

        Assert.Equal(refused.Select(e => e.EventId).Order(), dead.Select(m => EventCodec.Decode(m.Message.Value).Event!.EventId).Order());
        foreach (var letter in dead)
        {
            var position = positions[EventCodec.Decode(letter.Message.Value).Event!.EventId];
            Assert.Equal("clickhouse_rejected", Header(letter, EventCodec.DeadLetterReasonHeader));
            Assert.Equal("processors.handle", Header(letter, DeadLetters.StageHeader));
            Assert.Contains("Code: 27", Header(letter, EventCodec.DeadLetterDetailHeader), StringComparison.Ordinal);
            Assert.Equal((position.Topic, position.Partition.Value.ToString(CultureInfo.InvariantCulture), position.Offset.Value.ToString(CultureInfo.InvariantCulture)),
                (Header(letter, EventCodec.DeadLetterTopicHeader), Header(letter, EventCodec.DeadLetterPartitionHeader), Header(letter, EventCodec.DeadLetterOffsetHeader)));
        }

        Assert.Equal(good.Select(e => e.EventId).ToHashSet(), await pipeline.EventIdsAsync());
        Assert.Empty(await pipeline.DuplicatedEventIdsAsync());
        Assert.Equal(3, processor.Counter("insights.processors.events.dead_lettered", "clickhouse_rejected"));
        // Each refused event costs at most log2(100) ≈ 7 halvings of its batch.
        Assert.InRange(processor.Counter("insights.processors.batch.splits"), 3, 3 * 7);
        // Consumption goes on: every offset, the refused ones included, is committed, and the processor stays ready.
        await Eventually.EqualAsync(good.Count + refused.Count,
            () => Task.FromResult((int)pipeline.CommittedOffsets().Where(o => o.Offset != Offset.Unset).Sum(o => o.Offset.Value)), "committed offsets");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/readyz", UriKind.Relative), Ct)).StatusCode);
    }

    [Fact]
    public async Task Processors_killed_with_SIGKILL_ten_times_under_load_count_every_event_exactly_once()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "sigkill");
        var settings = WithoutIpData(pipeline.Settings(batchMaxEvents: 100));
        // A killed member never says goodbye: its successor waits out its session before taking the partitions.
        settings["Kafka:SessionTimeoutMs"] = "1500";
        await using var load = Load.Start(pipeline);

        for (var kill = 1; kill <= 10; kill++)
        {
            await using var doomed = ProcessorProcess.Start(settings);
            var before = await pipeline.CountRowsOrZeroAsync();
            await Eventually.TrueAsync(async () => await pipeline.CountRowsOrZeroAsync() > before, $"progress before kill {kill}",
                context: () => doomed.Output);
            await doomed.KillAsync(ExitTimeout);
        }

        var produced = await load.StopAsync();
        await using var survivor = ProcessorProcess.Start(settings);
        await Eventually.EqualAsync((ulong)produced.Count, pipeline.CountFinalAsync, "events counted after ten kills", TimeSpan.FromSeconds(90),
            () => survivor.Output);
        Assert.Equal(produced.Select(e => e.EventId).ToHashSet(), await pipeline.EventIdsAsync());
        Assert.Empty(await pipeline.DuplicatedEventIdsAsync());
        Assert.Equal(0, await survivor.StopAsync(ExitTimeout));
    }

    [Fact]
    public async Task Two_processors_in_one_group_with_one_killed_mid_run_lose_and_double_nothing()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "twokill");
        var settings = WithoutIpData(pipeline.Settings(batchMaxEvents: 100));
        settings["Kafka:SessionTimeoutMs"] = "1500";
        await using var load = Load.Start(pipeline);
        await using var a = ProcessorProcess.Start(settings);
        await using var b = ProcessorProcess.Start(settings);
        using var httpA = new HttpClient { BaseAddress = await a.WaitForAddressAsync(ExitTimeout) };
        using var httpB = new HttpClient { BaseAddress = await b.WaitForAddressAsync(ExitTimeout) };
        const string consumed = "insights_processors_events_consumed_total";
        await Eventually.TrueAsync(async () => await Scrape.MetricAsync(httpA, consumed) > 0 && await Scrape.MetricAsync(httpB, consumed) > 0,
            "both members own partitions", context: () => a.Output + b.Output);

        await a.KillAsync(ExitTimeout);
        var atKill = await Scrape.MetricAsync(httpB, consumed);
        await Eventually.TrueAsync(async () => await Scrape.MetricAsync(httpB, consumed) > atKill + 500, "the survivor took the partitions over",
            context: () => b.Output);

        var produced = await load.StopAsync();
        await Eventually.EqualAsync((ulong)produced.Count, pipeline.CountFinalAsync, "events counted", context: () => b.Output);
        Assert.Equal(produced.Select(e => e.EventId).ToHashSet(), await pipeline.EventIdsAsync());
        Assert.Empty(await pipeline.DuplicatedEventIdsAsync());
        Assert.Equal(0, await b.StopAsync(ExitTimeout));
    }

    [Fact]
    public async Task The_broker_down_and_up_again_delays_events_without_losing_or_doubling_any()
    {
        // A private stack: taking its broker down must not disturb the other tests.
        await using var privateStack = DevStackProcess.Start(Path.Combine(work, "broker"), Path.Combine(work, "broker.env"));
        var addresses = await privateStack.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var devStack = new Uri(addresses["INSIGHTS_CLICKHOUSE_URL"]);
        var pipeline = new Pipeline(addresses["INSIGHTS_KAFKA_BOOTSTRAP"], $"Host={devStack.Host};Port={devStack.Port};Username=default;Password=",
            "brokerdown", "events.brokerdown", "dlq.brokerdown", "enriched.brokerdown", "brokerdown-group");
        var before = TestEvents.Pageviews(300, "before");
        var during = TestEvents.Pageviews(300, "during");
        await pipeline.ProduceAsync(before);
        await using var processor = ProcessorProcess.Start(pipeline.Settings(batchMaxEvents: 100));
        await Eventually.EqualAsync((ulong)before.Count, async () => await pipeline.CountFinalAsyncOrNull() ?? 0, "events counted before the broker went down",
            context: () => processor.Output);

        using var http = new HttpClient { BaseAddress = devStack };
        (await http.PostAsync(new Uri("/_devstack/kafka/brokers/1/down", UriKind.Relative), null, Ct)).EnsureSuccessStatusCode();
        using var producer = pipeline.Producer();
        var delivered = pipeline.ProduceAsync(producer, during); // waits in the producer's queue until the broker is back
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        Assert.False(delivered.IsCompleted, "the broker is really down");
        (await http.PostAsync(new Uri("/_devstack/kafka/brokers/1/up", UriKind.Relative), null, Ct)).EnsureSuccessStatusCode();
        await delivered;

        await Eventually.EqualAsync((ulong)(before.Count + during.Count), pipeline.CountFinalAsync, "events counted after the broker came back",
            context: () => processor.Output);
        Assert.Equal(before.Concat(during).Select(e => e.EventId).ToHashSet(), await pipeline.EventIdsAsync());
        Assert.Empty(await pipeline.DuplicatedEventIdsAsync());
        Assert.False(processor.HasExited, processor.Output);
        Assert.Equal(0, await processor.StopAsync(ExitTimeout));
    }

    [Fact]
    public async Task A_topic_recreated_with_other_events_at_the_same_offsets_stores_both_sets()
    {
        // The dev stack's Kafka lives in memory: restarting it recreates every topic at offset 0, while ClickHouse
        // keeps its data directory. One visitor, one partition, one batch of exactly 100 each time: offsets 0-99 twice.
        var data = Path.Combine(work, "recreated");
        var first = OneBatch("first", TimeSpan.Zero);
        var second = OneBatch("second", TimeSpan.FromDays(1));
        foreach (var (events, run) in new[] { (first, 1), (second, 2) })
        {
            await using var devStack = DevStackProcess.Start(data, Path.Combine(work, $"recreated{run}.env"));
            var addresses = await devStack.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            var clickHouse = new Uri(addresses["INSIGHTS_CLICKHOUSE_URL"]);
            var pipeline = new Pipeline(addresses["INSIGHTS_KAFKA_BOOTSTRAP"], $"Host={clickHouse.Host};Port={clickHouse.Port};Username=default;Password=",
                "recreated", "events.recreated", "dlq.recreated", "enriched.recreated", "recreated-group");
            await pipeline.ProduceAsync(events);
            var settings = pipeline.Settings(batchMaxEvents: 100);
            settings["Processors:BatchMaxWaitMs"] = "30000"; // the batch is the 100 events, not what arrived within 100 ms
            await using (var processor = new InProcessProcessor(settings))
            {
                using var _ = await processor.StartAsync();
                await Eventually.EqualAsync((ulong)(100 * run), pipeline.CountFinalAsync, $"events counted in run {run}", context: () => processor.Logs);
            }

            if (run == 2)
            {
                Assert.Equal(first.Concat(second).Select(e => e.EventId).ToHashSet(), await pipeline.EventIdsAsync());
            }
        }
    }

    /// <summary>The kill runs are about delivery: without the IP data files a process starts in a second or two,
    /// not the ~10 s that loading 500k ASN ranges and the city databases takes on a busy machine.</summary>
    private static Dictionary<string, string?> WithoutIpData(Dictionary<string, string?> settings)
    {
        foreach (var source in new[] { "AsnCsvIpv4", "AsnCsvIpv6", "CityDatabase", "CityIpv6Database" })
        {
            settings["Enrichment:" + source] = "";
        }

        return settings;
    }

    private static List<PipelineEvent> OneBatch(string prefix, TimeSpan later) =>
        [.. TestEvents.Pageviews(100, prefix).Select(e => e with { AnonymousId = "one-visitor", Timestamp = e.Timestamp + later, ReceivedAt = e.ReceivedAt + later })];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string? Header(ConsumeResult<byte[]?, byte[]?> message, string name) =>
        message.Message.Headers.TryGetLastBytes(name, out var value) ? Encoding.UTF8.GetString(value) : null;

    public void Dispose()
    {
        try
        {
            Directory.Delete(work, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless.
        }
    }

    /// <summary>Page views produced in waves (40 every 100 ms, at most 8,000: the dev stack's broker keeps 5 MiB per
    /// partition and silently drops older messages) until stopped; returns every event acknowledged.</summary>
    private sealed class Load : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly List<PipelineEvent> produced = [];
        private Task? running;

        public static Load Start(Pipeline pipeline)
        {
            var load = new Load();
            load.running = Task.Run(() => load.RunAsync(pipeline));
            return load;
        }

        public async Task<List<PipelineEvent>> StopAsync()
        {
            await stop.CancelAsync();
            await running!;
            return produced;
        }

        public async ValueTask DisposeAsync()
        {
            if (!stop.IsCancellationRequested)
            {
                await StopAsync();
            }

            stop.Dispose();
        }

        private async Task RunAsync(Pipeline pipeline)
        {
            using var producer = pipeline.Producer();
            for (var wave = 0; wave < 200 && !stop.IsCancellationRequested; wave++)
            {
                var events = TestEvents.Pageviews(40, $"w{wave}");
                await pipeline.ProduceAsync(producer, events);
                produced.AddRange(events);
                try
                {
                    await Task.Delay(100, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
