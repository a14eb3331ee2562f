using System.Text.RegularExpressions;
using System.Globalization;
using System.Net;
using ClickHouse.Driver;
using Confluent.Kafka;
using Insights.DevStack.Testing;

namespace Insights.Processors.Tests;

/// <summary>
/// The failures the delivery promise is about: a processor killed between its insert and its offset commit,
/// a ClickHouse outage, and a start-up that cannot continue.
/// </summary>
public sealed class CrashAndOutageTests(DevStackFixture stack) : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);
    private readonly string work = Directory.CreateTempSubdirectory("insights-processors-").FullName;

    [Fact]
    public async Task A_processor_killed_after_its_insert_and_before_its_commit_counts_every_event_exactly_once_after_restart()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "killed");
        var events = TestEvents.Pageviews(2_000);
        await pipeline.ProduceAsync(events);
        var settings = pipeline.Settings(batchMaxEvents: 500);

        await using (var doomed = ProcessorProcess.Start(new Dictionary<string, string?>(settings) { ["Processors:Fault:ExitAfterInsert"] = "true" }))
        {
            var exit = await doomed.WaitForExitAsync(ExitTimeout);
            Assert.True(exit != 0, $"the fault should kill the process:\n{doomed.Output}");
        }

        // The crash window really happened: rows are in ClickHouse, yet the group has committed nothing for them.
        var insertedBeforeCrash = await pipeline.CountRowsAsync();
        Assert.InRange(insertedBeforeCrash, 1UL, (ulong)events.Count - 1);
        Assert.All(pipeline.CommittedOffsets(), o => Assert.Equal(Offset.Unset, o.Offset));

        await using var restarted = ProcessorProcess.Start(settings);
        await Eventually.EqualAsync((ulong)events.Count, pipeline.CountFinalAsync, "events counted after the restart");

        Assert.Equal(events.Select(e => e.EventId).ToHashSet(), await pipeline.EventIdsAsync());
        Assert.Empty(await pipeline.DuplicatedEventIdsAsync());
        using (var client = pipeline.ClickHouse())
        {
            // The other exact forms a report may use agree, whatever was merged so far.
            Assert.Equal((ulong)events.Count, await client.ExecuteScalarAsync("SELECT uniqExact(event_id) FROM events", cancellationToken: Ct));
            Assert.Equal((ulong)events.Count, await client.ExecuteScalarAsync(
                "SELECT sum(c) FROM (SELECT count() AS c FROM events FINAL GROUP BY site_id, toDate(timestamp))", cancellationToken: Ct));
        }

        // Every offset is committed once the restarted processor caught up, and it stops cleanly on SIGTERM.
        await Eventually.EqualAsync((long)events.Count, () => Task.FromResult(pipeline.CommittedOffsets().Sum(o => Math.Max(0, o.Offset.Value))), "committed offsets");
        Assert.Equal(0, await restarted.StopAsync(ExitTimeout));
    }

    [Fact]
    public async Task The_stats_roll_up_waits_for_the_schema_and_then_settles_quarter_hours_without_a_failed_round()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "rollup");
        await pipeline.ProduceAsync(TestEvents.Pageviews(50));
        var settings = pipeline.Settings();
        // A round every second. Before the roll-up waited for the schema, its rounds ran while the consumer loop was still
        // migrating a fresh database, and each such start logged a failure naming a missing table.
        settings["Processors:StatsRollupIntervalSeconds"] = "1";
        settings["Processors:InsertTimeoutSeconds"] = "1";
        settings["Processors:StatsRollupSettleSeconds"] = "2";
        // The migration is held up as when another instance migrates (or a rebuild takes minutes): a lock with a fresh beat.
        using var client = pipeline.ClickHouse();
        var beat = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        await client.ExecuteNonQueryAsync(
            $"CREATE TABLE {pipeline.Database}.schema_migrations_lock (holder String) ENGINE = Memory COMMENT 'another-host/4242/test|{beat}'",
            cancellationToken: Ct);

        await using var processor = ProcessorProcess.Start(settings);
        using var http = new HttpClient { BaseAddress = await processor.WaitForAddressAsync(ExitTimeout) };
        var probe = await http.GetAsync(new Uri("/readyz", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, probe.StatusCode);
        Assert.Contains("migrating the ClickHouse schema", await probe.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(3), Ct); // three of the roll-up's intervals while the schema is not there
        await client.ExecuteNonQueryAsync($"DROP TABLE {pipeline.Database}.schema_migrations_lock SYNC", cancellationToken: Ct);

        await Eventually.EqualAsync((ulong?)50, pipeline.CountFinalAsyncOrNull, "events counted", context: () => processor.Output);
        await Eventually.TrueAsync(async () => await Scrape.MetricAsync(http, "insights_processors_stats_quarters_rolled_total") >= 1,
            "a settled quarter hour rolled up (insights_processors_stats_quarters_rolled_total)", context: () => processor.Output);
        Assert.DoesNotContain("Rolling up the stats report's settled quarter hours failed", processor.Output, StringComparison.Ordinal);
        Assert.Equal(0, await processor.StopAsync(ExitTimeout));
    }

    [Fact]
    public async Task Messages_gone_from_kafka_before_the_group_read_them_are_counted_and_logged_as_lost()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "overrun");
        var events = TestEvents.Pageviews(200);
        await pipeline.ProduceAsync(events);
        var settings = pipeline.Settings();
        await using (var first = ProcessorProcess.Start(settings))
        {
            await Eventually.EqualAsync((long)events.Count, () => Task.FromResult(pipeline.CommittedOffsets().Sum(o => Math.Max(0, o.Offset.Value))), "committed offsets");
            Assert.Equal(0, await first.StopAsync(ExitTimeout));
        }

        // While no processor runs, more than the broker keeps per partition arrives (the dev stack's mock keeps 5 MiB):
        // the oldest of it, and with it the group's committed position, is dropped unread.
        using (var producer = pipeline.Producer())
        {
            var filler = new byte[400 * 1024];
            await Task.WhenAll(Enumerable.Range(0, 4 * 16).Select(i => producer.ProduceAsync(
                new TopicPartition(pipeline.Topic, i % 4), new Message<byte[]?, byte[]?> { Value = filler }, Ct)));
        }

        await using var second = ProcessorProcess.Start(settings);
        var address = await second.WaitForAddressAsync(ExitTimeout);
        var line = await second.WaitForLineAsync(new Regex("messages were lost unread"), ExitTimeout);
        Assert.Contains("Offset out of range", line, StringComparison.Ordinal);
        using var http = new HttpClient { BaseAddress = address };
        await Eventually.TrueAsync(async () => await Scrape.MetricAsync(http, "insights_processors_offsets_skipped_total") >= 1,
            "the skip counted in insights_processors_offsets_skipped_total", context: () => second.Output);
        Assert.Equal(0, await second.StopAsync(ExitTimeout));
    }

    [Fact]
    public async Task A_clickhouse_outage_at_start_up_or_while_consuming_pauses_and_resumes_with_nothing_lost_or_doubled()
    {
        await using var privateStack = await PrivateStack.StartAsync(work, "outage");
        var pipeline = privateStack.Pipeline;
        var before = TestEvents.Pageviews(300, "before");
        var during = TestEvents.Pageviews(700, "during");
        await pipeline.ProduceAsync(before);

        // Started while ClickHouse is down (as when everything starts at once): it waits, not ready, and migrates when it can.
        await privateStack.SetClickHouseAsync(up: false);
        await using var processor = ProcessorProcess.Start(pipeline.Settings(batchMaxEvents: 100));
        using var http = new HttpClient { BaseAddress = await processor.WaitForAddressAsync(ExitTimeout) };
        await Eventually.TrueAsync(() => Task.FromResult(processor.Output.Contains("Schema migration failed (attempt 2)", StringComparison.Ordinal)),
            "migration retried", context: () => processor.Output);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadinessAsync(http));
        await privateStack.SetClickHouseAsync(up: true);

        await Eventually.EqualAsync(HttpStatusCode.OK, () => ReadinessAsync(http), "ready", context: () => processor.Output);
        await Eventually.EqualAsync((ulong)before.Count, pipeline.CountFinalAsync, "events counted before the outage", context: () => processor.Output);

        await privateStack.SetClickHouseAsync(up: false);
        await pipeline.ProduceAsync(during);

        await Eventually.EqualAsync(HttpStatusCode.ServiceUnavailable, () => ReadinessAsync(http), "not ready while ClickHouse fails",
            context: () => processor.Output);
        await Eventually.TrueAsync(async () => await MetricAsync(http, "insights_processors_clickhouse_failures_total") >= 3,
            "inserts retried with back-off", context: () => processor.Output);
        Assert.True(await MetricAsync(http, "insights_processors_clickhouse_backoff_seconds") > 0, "back-off reported");
        Assert.True(await MetricAsync(http, "insights_processors_consumer_lag") > 0, "lag reported while paused");
        Assert.True(await pipeline.CountFinalAsyncOrNull() is null, "ClickHouse is really down");

        await privateStack.SetClickHouseAsync(up: true);

        var total = (ulong)(before.Count + during.Count);
        await Eventually.EqualAsync(total, pipeline.CountFinalAsync, "events counted after the outage", context: () => processor.Output);
        Assert.Empty(await pipeline.DuplicatedEventIdsAsync());
        Assert.Equal(before.Concat(during).Select(e => e.EventId).ToHashSet(), await pipeline.EventIdsAsync());
        await Eventually.EqualAsync(HttpStatusCode.OK, () => ReadinessAsync(http), "ready again", context: () => processor.Output);
        Assert.Equal(0, await MetricAsync(http, "insights_processors_clickhouse_backoff_seconds"));
        Assert.Equal(0, await processor.StopAsync(ExitTimeout));
    }

    [Fact]
    public async Task Partitions_the_group_takes_away_and_gives_back_during_an_outage_start_again_at_the_committed_offset()
    {
        // A failing batch's partitions are paused for its back-off. librdkafka kept that pause, and the position it was
        // taken at (past the batch's messages), when the group took the partitions away and gave them back; resumed, they
        // were fetched from there, and the batch's messages were never written, with lag 0 (CI's hostile-input storm).
        await using var privateStack = await PrivateStack.StartAsync(work, "handback");
        var pipeline = privateStack.Pipeline;
        var before = TestEvents.Pageviews(200, "before");
        var during = TestEvents.Pageviews(800, "during");
        await pipeline.ProduceAsync(before);
        // Batches larger than the outage's events, with time to fill: the failing one holds messages of every partition,
        // so whichever the group takes away had messages consumed and not written.
        var settings = pipeline.Settings(batchMaxEvents: 2000);
        settings["Processors:BatchMaxWaitMs"] = "2000";
        await using var processor = ProcessorProcess.Start(settings);
        using var http = new HttpClient { BaseAddress = await processor.WaitForAddressAsync(ExitTimeout) };
        await Eventually.EqualAsync(HttpStatusCode.OK, () => ReadinessAsync(http), "ready (schema migrated)", context: () => processor.Output);
        await Eventually.EqualAsync((ulong)before.Count, pipeline.CountFinalAsync, "events counted before the outage", context: () => processor.Output);

        await privateStack.SetClickHouseAsync(up: false);
        await pipeline.ProduceAsync(during);
        await Eventually.TrueAsync(async () => await MetricAsync(http, "insights_processors_clickhouse_failures_total") >= 2,
            "a batch failing, its partitions paused", context: () => processor.Output);

        // Another member joins: the group takes some of the paused partitions away, and gives them back when it leaves.
        using (var member = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
               {
                   BootstrapServers = pipeline.KafkaBootstrap,
                   GroupId = pipeline.GroupId,
                   PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
                   EnableAutoCommit = false,
                   AutoOffsetReset = AutoOffsetReset.Earliest,
                   SessionTimeoutMs = 4000,
               }).Build())
        {
            member.Subscribe(pipeline.Topic);
            var deadline = DateTime.UtcNow + Eventually.Timeout;
            while (member.Assignment.Count == 0 && DateTime.UtcNow < deadline)
            {
                member.Consume(TimeSpan.FromMilliseconds(200));
            }

            Assert.NotEmpty(member.Assignment);
            member.Close();
        }

        await Eventually.TrueAsync(() => Task.FromResult(Regex.Count(processor.Output, "processors: assigned partitions") >= 2),
            "the partitions given back", context: () => processor.Output);
        Assert.Matches("processors: revoked partitions: .*; abandoned [1-9][0-9]* unwritten messages", processor.Output);

        await privateStack.SetClickHouseAsync(up: true);
        var all = before.Concat(during).Select(e => e.EventId).ToHashSet();
        await Eventually.EqualAsync((ulong)all.Count, pipeline.CountFinalAsync, "every event counted after the outage", context: () => processor.Output);
        Assert.Equal(all, await pipeline.EventIdsAsync());
        Assert.Empty(await pipeline.DuplicatedEventIdsAsync());
        Assert.Equal(0, await processor.StopAsync(ExitTimeout));
    }

    [Fact]
    public async Task A_start_up_that_cannot_continue_stops_the_process_with_a_non_zero_exit_code()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "tampered");
        // The schema was migrated once, then someone edited an applied migration: the processor must not guess.
        await using (var first = new InProcessProcessor(pipeline.Settings()))
        {
            using var _ = await first.StartAsync();
        }

        using (var client = pipeline.ClickHouse())
        {
            await client.InsertBinaryAsync("schema_migrations", ["version", "name", "checksum", "applied_at"],
                [[1u, "0001_events", "tampered", DateTime.UtcNow.AddDays(1)]], cancellationToken: Ct);
        }

        await using var processor = ProcessorProcess.Start(pipeline.Settings());
        var exit = await processor.WaitForExitAsync(ExitTimeout);

        Assert.NotEqual(0, exit);
        Assert.Contains("cannot continue", processor.Output, StringComparison.Ordinal);
        Assert.Contains("0001_events was changed after it was applied", processor.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_settings_stop_the_start_up_naming_the_key()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "invalid");
        // One process per section: the first section found invalid stops the start-up.
        foreach (var (bad, expected) in new (Dictionary<string, string?> Bad, string[] Expected)[]
                 {
                     (new() { ["Processors:BatchMaxEvents"] = "0", ["Processors:DeadLetterTopic"] = pipeline.Topic },
                         ["Processors:BatchMaxEvents must be between 1 and 1000000, got 0",
                          "Processors:Topic, Processors:DeadLetterTopic and Processors:EnrichedTopic must be three different topics"]),
                     (new() { ["Processors:StatsRollupSettleSeconds"] = "30", ["Processors:DeadLetterTopic"] = pipeline.Topic },
                         ["Processors:Topic, Processors:DeadLetterTopic and Processors:EnrichedTopic must be three different topics",
                          "Processors:StatsRollupSettleSeconds (30) must be longer than Processors:InsertTimeoutSeconds (30)"]),
                     (new() { ["Kafka:BackoffInitialMs"] = "5000", ["Kafka:BackoffMaxMs"] = "1000", ["Kafka:SessionTimeoutMs"] = "10" },
                         ["Kafka:BackoffMaxMs (1000) must not be less than Kafka:BackoffInitialMs (5000)", "Kafka:SessionTimeoutMs must be between 1000 and 300000, got 10"]),
                 })
        {
            var settings = new Dictionary<string, string?>(pipeline.Settings());
            foreach (var (key, value) in bad)
            {
                settings[key] = value;
            }

            await using var processor = ProcessorProcess.Start(settings);
            var exit = await processor.WaitForExitAsync(ExitTimeout);

            Assert.NotEqual(0, exit);
            Assert.All(expected, message => Assert.Contains(message, processor.Output, StringComparison.Ordinal));
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A dev stack of the test's own, so taking its ClickHouse down disturbs no other test, and a pipeline on it
    /// whose topics, group and database are named after <c>name</c>.</summary>
    private sealed class PrivateStack : IAsyncDisposable
    {
        private readonly DevStackProcess process;
        private readonly HttpClient clickHouse;

        private PrivateStack(DevStackProcess process, Uri clickHouseUrl, Pipeline pipeline)
        {
            this.process = process;
            clickHouse = new HttpClient { BaseAddress = clickHouseUrl };
            Pipeline = pipeline;
        }

        public Pipeline Pipeline { get; }

        public static async Task<PrivateStack> StartAsync(string work, string name)
        {
            var process = DevStackProcess.Start(Path.Combine(work, "clickhouse"), Path.Combine(work, "devstack.env"));
            try
            {
                var addresses = await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
                var url = new Uri(addresses["INSIGHTS_CLICKHOUSE_URL"]);
                var connectionString = $"Host={url.Host};Port={url.Port};Username=default;Password=";
                return new PrivateStack(process, url, new Pipeline(addresses["INSIGHTS_KAFKA_BOOTSTRAP"], connectionString, name,
                    $"events.{name}", $"dlq.{name}", $"enriched.{name}", $"{name}-group"));
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }
        }

        /// <summary>Makes the stack's ClickHouse refuse every request (503) or serve again, through its fault injection.</summary>
        public async Task SetClickHouseAsync(bool up) =>
            (await clickHouse.PostAsync(new Uri($"/_devstack/clickhouse/{(up ? "up" : "down")}", UriKind.Relative), null, Ct)).EnsureSuccessStatusCode();

        public async ValueTask DisposeAsync()
        {
            clickHouse.Dispose();
            await process.DisposeAsync();
        }
    }

    private static async Task<HttpStatusCode> ReadinessAsync(HttpClient http) =>
        (await http.GetAsync(new Uri("/readyz", UriKind.Relative), Ct)).StatusCode;

    private static Task<double> MetricAsync(HttpClient http, string name) => Scrape.MetricAsync(http, name);

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
}
