using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Insights.Processors.Consuming;

namespace Insights.Processors.Tests;

/// <summary>The processor in this process against the shared dev stack: real Kafka protocol, real ClickHouse engine.</summary>
public sealed class PipelineTests(DevStackFixture stack)
{
    [Fact]
    public async Task Produced_events_are_stored_once_each_with_derived_columns_and_republished_for_presence()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "stored");
        var events = TestEvents.Pageviews(1_500);
        await pipeline.ProduceAsync(events);

        await using var processor = new InProcessProcessor(pipeline.Settings(batchMaxEvents: 400));
        using var http = await processor.StartAsync();

        await Eventually.EqualAsync((ulong)events.Count, pipeline.CountFinalAsync, "events counted");
        Assert.Equal(events.Select(e => e.EventId).ToHashSet(), await pipeline.EventIdsAsync());

        using (var client = pipeline.ClickHouse())
        {
            var parameters = new ClickHouseParameterCollection();
            parameters.AddParameter("id", events[7].EventId);
            using var reader = await client.ExecuteReaderAsync(
                "SELECT path, referrer_host, IPv6NumToString(ip), properties, site_id, type, timestamp FROM events WHERE event_id = {id:String}",
                parameters, cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
            Assert.Equal("/products/2", reader.GetString(0));
            Assert.Equal("google.com", reader.GetString(1));
            // Enrichment's default privacy mode keeps the network part only (IPv4 /24).
            Assert.Equal("::ffff:203.0.113.0", reader.GetString(2));
            Assert.Equal("""{"plan":"pro"}""", reader.GetString(3));
            Assert.Equal("demo", reader.GetString(4));
            Assert.Equal("pageview", reader.GetString(5));
            Assert.Equal(events[7].Timestamp.UtcDateTime, reader.GetDateTime(6));
        }

        // Presence is at-least-once (a batch replayed after a lost partition is republished), so: every event, by id.
        var enriched = pipeline.ReadLiveEvents(events.Count, Eventually.Timeout);
        Assert.Equal(events.Select(e => e.EventId).ToHashSet(), enriched.Select(e => e.Event.EventId).ToHashSet());
        // Bundled, keyed by the partition of insights.events they came from: each visitor's events under one key, in the
        // order they happened (the test's events are numbered in that order).
        var messages = enriched.Select(e => e.Message).Distinct().Count();
        Assert.True(messages * 10 < events.Count, $"{events.Count} events went out in {messages} messages");
        foreach (var visitor in enriched.GroupBy(e => e.Event.VisitorId))
        {
            Assert.Single(visitor.Select(e => Encoding.ASCII.GetString(e.Message.Message.Key!)).Distinct());
            // First sightings: a batch republished after a retry repeats its events after them.
            var order = visitor.Select(e => e.Event.EventId).Distinct().ToList();
            Assert.Equal(order.Order(StringComparer.Ordinal), order);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/readyz", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        Assert.True(processor.Counter("insights.processors.events.inserted") >= events.Count);
    }

    [Fact]
    public async Task Poison_messages_go_to_the_dead_letter_topic_with_reasons_and_do_not_block_their_partition()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "poison");
        var before = TestEvents.Pageviews(200, "before");
        var after = TestEvents.Pageviews(200, "after");
        var poison = new (string Value, string Reason, byte[]? Schema)[]
        {
            ("{not json", "undecodable", EventCodec.SchemaValue),
            ("""{"v":1,"event_id":"","type":"pageview","site_id":"demo","timestamp":"2026-11-20T00:00:00Z","received_at":"2026-11-20T00:00:00Z"}""", "schema_invalid", EventCodec.SchemaValue),
            ("""{"v":1,"event_id":"x1","type":"teleport","site_id":"demo","timestamp":"2026-11-20T00:00:00Z","received_at":"2026-11-20T00:00:00Z"}""", "unknown_type", EventCodec.SchemaValue),
            ("""{"v":7,"event_id":"x2","type":"pageview","site_id":"demo","timestamp":"2026-11-20T00:00:00Z","received_at":"2026-11-20T00:00:00Z"}""", "unknown_version", null),
            (Encoding.UTF8.GetString(EventCodec.Encode(TestEvents.Pageviews(1, "v9")[0])), "unknown_version", "insights.event.v9"u8.ToArray()),
            ("', 1); DROP TABLE events; --", "undecodable", null),
        };

        using (var producer = pipeline.Producer())
        {
            // The good events before the poison carry the headers ingest wrote until 2026-12-07 (schema, event_type): a
            // message written then reads as one without them.
            foreach (var e in before)
            {
                await producer.ProduceAsync(pipeline.Topic, new Message<byte[]?, byte[]?>
                {
                    Key = EventCodec.EncodeKey(e),
                    Value = EventCodec.Encode(e),
                    Headers = new Headers { { EventCodec.SchemaHeader, EventCodec.SchemaValue }, { "event_type", Encoding.UTF8.GetBytes(e.Type) } },
                }, TestContext.Current.CancellationToken);
            }

            // Every poison message shares a key with good events, so it sits in the middle of a busy partition.
            foreach (var (value, _, schema) in poison)
            {
                await producer.ProduceAsync(pipeline.Topic, new Message<byte[]?, byte[]?>
                {
                    Key = Encoding.UTF8.GetBytes("demo:visitor-3"),
                    Value = Encoding.UTF8.GetBytes(value),
                    Headers = schema is null ? [] : new Headers { { EventCodec.SchemaHeader, schema }, { "trace", "t-1"u8.ToArray() } },
                }, TestContext.Current.CancellationToken);
            }

            await pipeline.ProduceAsync(producer, after);
        }

        await using var processor = new InProcessProcessor(pipeline.Settings(batchMaxEvents: 50));
        using var http = await processor.StartAsync();

        await Eventually.EqualAsync((ulong)(before.Count + after.Count), pipeline.CountFinalAsync, "good events counted");
        var dead = pipeline.ReadAll(pipeline.DeadLetterTopic, poison.Length, Eventually.Timeout);

        Assert.Equal(poison.Length, dead.Count);
        foreach (var (value, reason, _) in poison)
        {
            var letter = Assert.Single(dead, m => Encoding.UTF8.GetString(m.Message.Value!) == value);
            Assert.Equal("demo:visitor-3", Encoding.UTF8.GetString(letter.Message.Key!));
            Assert.Equal(reason, Header(letter, EventCodec.DeadLetterReasonHeader));
            Assert.False(string.IsNullOrEmpty(Header(letter, EventCodec.DeadLetterDetailHeader)));
            Assert.Equal("insights-processors", Header(letter, EventCodec.DeadLetterSourceHeader));
            Assert.Equal("processors.decode", Header(letter, DeadLetters.StageHeader));
            Assert.Equal(pipeline.Topic, Header(letter, EventCodec.DeadLetterTopicHeader));
            Assert.InRange(int.Parse(Header(letter, EventCodec.DeadLetterPartitionHeader)!, CultureInfo.InvariantCulture), 0, 3);
            Assert.InRange(long.Parse(Header(letter, EventCodec.DeadLetterOffsetHeader)!, CultureInfo.InvariantCulture), 0, 1_000);
        }

        Assert.Equal("t-1", Header(dead.First(m => Encoding.UTF8.GetString(m.Message.Value!) == poison[0].Value), "trace"));
        const string deadLettered = "insights.processors.events.dead_lettered";
        Assert.Equal(2, processor.Counter(deadLettered, "undecodable"));
        Assert.Equal(1, processor.Counter(deadLettered, "schema_invalid"));
        Assert.Equal(1, processor.Counter(deadLettered, "unknown_type"));
        Assert.Equal(2, processor.Counter(deadLettered, "unknown_version"));

        // Handled, not pending: the poison messages' offsets were stored and committed with the good ones.
        await Eventually.EqualAsync(before.Count + after.Count + poison.Length,
            () => Task.FromResult((int)pipeline.CommittedOffsets().Where(o => o.Offset != Offset.Unset).Sum(o => o.Offset.Value)),
            "committed offsets");
    }

    [Fact]
    public async Task A_retry_that_ingest_stamped_with_a_later_time_is_stored_once_with_the_first_time()
    {
        // A server that leaves the time to ingest sends a batch again: ingest stamps each attempt with its arrival, here
        // 45 s later, so the retries of 12:59:15-12:59:59 fall into the next hour. `events` is sorted by the hour, then
        // the id, so only the first time collapses those; the others would stay two rows until a merge.
        var pipeline = await Pipeline.CreateAsync(stack, "retry-time");
        var first = TestEvents.Pageviews(120, "retried")
            .Select(e => e with { Timestamp = e.Timestamp.AddMinutes(59), ReceivedAt = e.ReceivedAt.AddMinutes(59) }).ToList();
        await pipeline.ProduceAsync(first);

        await using var processor = new InProcessProcessor(pipeline.Settings(batchMaxEvents: 50));
        using var http = await processor.StartAsync();
        await Eventually.EqualAsync((ulong)first.Count, pipeline.CountFinalAsync, "first attempts counted");

        var retries = first.Where((_, i) => i % 3 == 0)
            .Select(e => e with { Timestamp = e.Timestamp.AddSeconds(45), ReceivedAt = e.ReceivedAt.AddSeconds(45) }).ToList();
        var fresh = TestEvents.Pageviews(30, "after-retry");
        await pipeline.ProduceAsync(retries.Concat(fresh));

        // Offsets are committed once a batch is written: then every retry's row is in ClickHouse.
        await Eventually.EqualAsync(first.Count + retries.Count + fresh.Count,
            () => Task.FromResult((int)pipeline.CommittedOffsets().Where(o => o.Offset != Offset.Unset).Sum(o => o.Offset.Value)),
            "committed offsets");
        Assert.Equal((ulong)(first.Count + fresh.Count), await pipeline.CountFinalAsync());
        Assert.Empty(await pipeline.DuplicatedEventIdsAsync());
        using var client = pipeline.ClickHouse();
        var retimed = await client.ExecuteScalarAsync(
            "SELECT count() FROM (SELECT event_id FROM events WHERE event_id LIKE 'retried-%' GROUP BY event_id HAVING max(timestamp) != min(timestamp))",
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(0UL, Convert.ToUInt64(retimed, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_second_processor_joining_the_group_loses_and_doubles_nothing()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "rebalance");
        var first = TestEvents.Pageviews(600, "first");
        await pipeline.ProduceAsync(first);

        await using var a = new InProcessProcessor(pipeline.Settings(batchMaxEvents: 100));
        using var httpA = await a.StartAsync();
        await Eventually.EqualAsync((ulong)first.Count, pipeline.CountFinalAsync, "first events counted");

        // Keep events flowing while the second member joins and the partitions are split between the two.
        var during = new List<PipelineEvent>();
        await using var b = new InProcessProcessor(pipeline.Settings(batchMaxEvents: 100));
        using (var producer = pipeline.Producer())
        {
            using var httpB = await b.StartAsync();
            for (var round = 0; round < 30; round++)
            {
                var wave = TestEvents.Pageviews(40, $"during{round}");
                await pipeline.ProduceAsync(producer, wave);
                during.AddRange(wave);
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }

            var total = (ulong)(first.Count + during.Count);
            await Eventually.EqualAsync(total, pipeline.CountFinalAsync, "events counted across the rebalance");
            Assert.True(b.Counter("insights.processors.events.consumed") > 0, "the second processor took over partitions");
            Assert.True(a.Counter("insights.processors.events.consumed") > first.Count, "the first processor kept some partitions");
            Assert.Empty(await pipeline.DuplicatedEventIdsAsync());
        }

        // And when the first one leaves, the second one takes everything over, again without gaps or repeats.
        await a.DisposeAsync();
        var last = TestEvents.Pageviews(300, "last");
        await pipeline.ProduceAsync(last);
        var all = first.Concat(during).Concat(last).Select(e => e.EventId).ToHashSet();
        await Eventually.EqualAsync((ulong)all.Count, pipeline.CountFinalAsync, "events counted after the first processor left");
        Assert.Equal(all, await pipeline.EventIdsAsync());
        Assert.Empty(await pipeline.DuplicatedEventIdsAsync());
    }

    [Fact]
    public async Task Hostile_events_are_stored_verbatim_or_dead_lettered_and_never_stop_the_processor()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "hostile");
        var sqlish = "'); DROP TABLE events; --\\' \" {id:String} \t\n";
        var hostile = TestEvents.Pageviews(3, "hostile");
        hostile[0] = hostile[0] with { Title = sqlish, Url = "https://a.example/" + sqlish, Referrer = "javascript:alert(1)", Ip = "1.2.3.4'--" };
        hostile[1] = hostile[1] with { Title = new string('x', 200_000) + "\u2603\ud83d\ude00" };
        hostile[2] = hostile[2] with { Properties = JsonDocument.Parse("""{"a":{"b":[1,2,{"c":"\u0000 null byte"}]}}""").RootElement };
        var deeplyNested = "{\"v\":1,\"event_id\":\"deep\",\"type\":\"track\",\"site_id\":\"demo\",\"timestamp\":\"2026-11-20T00:00:00Z\"," +
                           "\"received_at\":\"2026-11-20T00:00:00Z\",\"properties\":" + new string('[', 5_000) + new string(']', 5_000) + "}";
        byte[] invalidUtf8 = [.. "{\"v\":1,\"event_id\":\""u8, 0xff, 0xfe, .. "\"}"u8];

        using (var producer = pipeline.Producer())
        {
            await pipeline.ProduceAsync(producer, hostile);
            foreach (var value in new[] { Encoding.UTF8.GetBytes(deeplyNested), invalidUtf8 })
            {
                await producer.ProduceAsync(pipeline.Topic, new Message<byte[]?, byte[]?> { Key = "demo:x"u8.ToArray(), Value = value },
                    TestContext.Current.CancellationToken);
            }
        }

        await using var processor = new InProcessProcessor(pipeline.Settings());
        using var http = await processor.StartAsync();

        await Eventually.EqualAsync((ulong)hostile.Count, pipeline.CountFinalAsync, "hostile but valid events counted");
        Assert.Equal(2, pipeline.ReadAll(pipeline.DeadLetterTopic, 2, Eventually.Timeout).Count);
        using var client = pipeline.ClickHouse();
        foreach (var e in hostile)
        {
            var parameters = new ClickHouseParameterCollection();
            parameters.AddParameter("id", e.EventId);
            using var reader = await client.ExecuteReaderAsync(
                "SELECT title, url, referrer_host, ip IS NULL, properties FROM events FINAL WHERE event_id = {id:String}",
                parameters, cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
            Assert.Equal(e.Title, reader.GetString(0));
            Assert.Equal(e.Url, reader.GetString(1));
            Assert.Equal(EventRowMapper.ReferrerHostOf(e.Referrer), reader.GetString(2));
            Assert.Equal(e.Ip == "1.2.3.4'--", Convert.ToBoolean(reader.GetValue(3), CultureInfo.InvariantCulture));
            Assert.Equal(e.Properties!.Value.GetRawText(), reader.GetString(4));
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/readyz", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
    }

    private static string? Header(ConsumeResult<byte[]?, byte[]?> message, string name) =>
        message.Message.Headers.TryGetLastBytes(name, out var value) ? Encoding.UTF8.GetString(value) : null;
}
