using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ClickHouse.Driver;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Insights.Processors.Tests;

/// <summary>Where a test's processor reads and writes: its own topics, group and database on a dev stack.</summary>
internal sealed record Pipeline(string KafkaBootstrap, string ClickHouseConnectionString, string Database, string Topic, string DeadLetterTopic,
    string EnrichedTopic, string GroupId)
{
    public static async Task<Pipeline> CreateAsync(Insights.DevStack.Testing.DevStackFixture stack, string name) =>
        new(stack.KafkaBootstrap, stack.ConnectionString(), await stack.CreateDatabaseAsync(name),
            Insights.DevStack.Testing.DevStackFixture.NewTopicName(name + "-events"),
            Insights.DevStack.Testing.DevStackFixture.NewTopicName(name + "-dlq"),
            Insights.DevStack.Testing.DevStackFixture.NewTopicName(name + "-enriched"),
            $"test-{name}-{Guid.NewGuid():N}");

    /// <summary>The processor's configuration, as a deployment would set it; short sessions and batches for tests.</summary>
    public Dictionary<string, string?> Settings(int batchMaxEvents = 200) => new(StringComparer.Ordinal)
    {
        ["Kafka:BootstrapServers"] = KafkaBootstrap,
        ["ClickHouse:ConnectionString"] = ClickHouseConnectionString,
        ["ClickHouse:Database"] = Database,
        ["Processors:Topic"] = Topic,
        ["Processors:DeadLetterTopic"] = DeadLetterTopic,
        ["Processors:EnrichedTopic"] = EnrichedTopic,
        ["Processors:GroupId"] = GroupId,
        ["Processors:BatchMaxEvents"] = batchMaxEvents.ToString(CultureInfo.InvariantCulture),
        ["Processors:BatchMaxWaitMs"] = "100",
        ["Kafka:BackoffInitialMs"] = "100",
        ["Kafka:BackoffMaxMs"] = "1000",
        // Short enough that a killed member's partitions move on within seconds, long enough that a busy CI
        // machine starving the heartbeat thread does not evict a live member (which replays, harmlessly, but noisily).
        ["Kafka:SessionTimeoutMs"] = "4000",
        ["Kafka:HeartbeatIntervalMs"] = "250",
        ["Kafka:AutoCommitIntervalMs"] = "200",
    };

    public ClickHouseClient ClickHouse() => new(ClickHouseConnectionString + $";Database={Database}");

    /// <summary>What a report would count: each event once, merged or not.</summary>
    public async Task<ulong> CountFinalAsync()
    {
        using var client = ClickHouse();
        return (ulong)(await client.ExecuteScalarAsync("SELECT count() FROM events FINAL"))!;
    }

    /// <summary>The count, or null when ClickHouse refuses to answer.</summary>
    public async Task<ulong?> CountFinalAsyncOrNull()
    {
        try
        {
            return await CountFinalAsync();
        }
        catch (ClickHouseServerException)
        {
            return null;
        }
    }

    /// <summary>Rows as stored, or 0 while the table does not exist yet.</summary>
    public async Task<ulong> CountRowsOrZeroAsync()
    {
        try
        {
            return await CountRowsAsync();
        }
        catch (ClickHouseServerException)
        {
            return 0;
        }
    }

    /// <summary>Rows as stored, before any merge: more than the events if something was written twice.</summary>
    public async Task<ulong> CountRowsAsync()
    {
        using var client = ClickHouse();
        return (ulong)(await client.ExecuteScalarAsync("SELECT count() FROM events"))!;
    }

    /// <summary>Event ids that a query over the deduplicated table returns more than once.</summary>
    public async Task<List<string>> DuplicatedEventIdsAsync()
    {
        using var client = ClickHouse();
        using var reader = await client.ExecuteReaderAsync("SELECT event_id FROM events FINAL GROUP BY event_id HAVING count() > 1 LIMIT 10");
        var ids = new List<string>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public async Task<HashSet<string>> EventIdsAsync()
    {
        using var client = ClickHouse();
        using var reader = await client.ExecuteReaderAsync("SELECT DISTINCT event_id FROM events");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public IProducer<byte[]?, byte[]?> Producer() =>
        new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = KafkaBootstrap,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
        }).Build();

    public async Task ProduceAsync(IEnumerable<PipelineEvent> events)
    {
        using var producer = Producer();
        await ProduceAsync(producer, events);
    }

    public async Task ProduceAsync(IProducer<byte[]?, byte[]?> producer, IEnumerable<PipelineEvent> events)
    {
        var deliveries = events.Select(e => producer.ProduceAsync(Topic, new Message<byte[]?, byte[]?>
        {
            // As ingest writes them (EventCodec.ToMessage): the key and the value, no headers.
            Key = EventCodec.EncodeKey(e),
            Value = EventCodec.Encode(e),
        })).ToList();
        await Task.WhenAll(deliveries);
    }

    /// <summary>Reads every partition of a topic from the start (assigned, not subscribed: no group, so no rebalance
    /// can make it read anything twice) until <paramref name="expected"/> messages arrived and every partition is at its end;
    /// <paramref name="itemsOf"/> counts what a message holds when that is not one item.</summary>
    public List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string topic, int expected, TimeSpan timeout,
        Func<ConsumeResult<byte[]?, byte[]?>, int>? itemsOf = null)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = KafkaBootstrap,
            GroupId = $"reader-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).Build();
        var messages = new List<ConsumeResult<byte[]?, byte[]?>>();
        var clock = Stopwatch.StartNew();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = KafkaBootstrap }).Build())
        {
            var partitions = admin.GetMetadata(topic, timeout).Topics.Single().Partitions;
            consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)));
        }

        var atEnd = new HashSet<TopicPartition>();
        var items = 0;
        while (items < expected || !consumer.Assignment.All(atEnd.Contains))
        {
            Assert.True(clock.Elapsed < timeout, $"read {items} of {expected} items ({messages.Count} messages) from {topic}");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                atEnd.Add(result.TopicPartition);
                continue;
            }

            atEnd.Remove(result.TopicPartition);
            messages.Add(result);
            items += itemsOf?.Invoke(result) ?? 1;
        }

        consumer.Close();
        return messages;
    }

    /// <summary>Every live event on the enriched topic, with its line and the message that carried it (a message carries
    /// one or more: <see cref="LiveEventCodec"/>), once at least <paramref name="expected"/> were read.</summary>
    public List<(LiveEvent Event, byte[] Line, ConsumeResult<byte[]?, byte[]?> Message)> ReadLiveEvents(int expected, TimeSpan timeout) =>
        [.. ReadAll(EnrichedTopic, expected, timeout, m => LinesOf(m.Message.Value!).Count)
            .SelectMany(m => LinesOf(m.Message.Value!).Select(line => (LiveEventCodec.Decode(line).Event!, line, m)))];

    private static List<byte[]> LinesOf(byte[] value)
    {
        var lines = new List<byte[]>();
        foreach (var line in LiveEventCodec.Lines(value))
        {
            lines.Add(line.ToArray());
        }

        return lines;
    }

    /// <summary>The group's committed offsets on the events topic's four partitions (Offset.Unset where none).</summary>
    public List<TopicPartitionOffset> CommittedOffsets()
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = KafkaBootstrap, GroupId = GroupId }).Build();
        return consumer.Committed(Enumerable.Range(0, 4).Select(p => new TopicPartition(Topic, p)), TimeSpan.FromSeconds(10));
    }
}

internal static class TestEvents
{
    private static readonly DateTimeOffset Start = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Page views from 37 visitors (so every partition gets some), each with a unique event id.</summary>
    public static List<PipelineEvent> Pageviews(int count, string prefix = "e") =>
        Enumerable.Range(0, count).Select(i => new PipelineEvent
        {
            EventId = $"{prefix}-{i:D6}-{Guid.NewGuid():N}",
            Type = EventTypes.Pageview,
            SiteId = "demo",
            AnonymousId = $"visitor-{i % 37}",
            Timestamp = Start.AddSeconds(i),
            ReceivedAt = Start.AddSeconds(i).AddMilliseconds(40),
            Url = $"https://shop.example.com/products/{i % 5}?utm_source=x#top",
            Referrer = "https://WWW.Google.com:443/search?q=shoes",
            Ip = "203.0.113.7",
            UserAgent = "Mozilla/5.0",
            Title = "Product",
            ScreenWidth = 1280,
            ScreenHeight = 800,
            Properties = JsonDocument.Parse("""{"plan":"pro"}""").RootElement,
        }).ToList();
}

internal static class Scrape
{
    /// <summary>A metric as Prometheus scrapes it from /metrics (summed over its label sets).</summary>
    public static async Task<double> MetricAsync(HttpClient http, string name)
    {
        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        return text.Split('\n')
            .Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is '{' or ' ')
            .Sum(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture));
    }
}

internal static class Eventually
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<T> EqualAsync<T>(T expected, Func<Task<T>> actual, string what, TimeSpan? timeout = null, Func<string>? context = null)
    {
        var clock = Stopwatch.StartNew();
        T last;
        while (!EqualityComparer<T>.Default.Equals(last = await actual(), expected))
        {
            if (clock.Elapsed > (timeout ?? Timeout))
            {
                Assert.Fail($"{what}: expected {expected}, still {last} after {clock.Elapsed.TotalSeconds:F0} s\n{context?.Invoke()}");
            }

            await Task.Delay(100);
        }

        return last;
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<string>? context = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > (timeout ?? Timeout))
            {
                Assert.Fail($"{what}: not true after {clock.Elapsed.TotalSeconds:F0} s\n{context?.Invoke()}");
            }

            await Task.Delay(100);
        }
    }
}

/// <summary>The processor host in this process (WebApplicationFactory), configured like a deployment.</summary>
internal sealed class InProcessProcessor(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    private readonly RecordingLoggerProvider logs = new();
    private readonly MetricsRecorder metrics = new();

    /// <summary>Everything the processor logged, for failure messages.</summary>
    public string Logs => logs.Text;

    /// <summary>A counter of this host's <c>Insights.Processors</c> meter, optionally for one <c>reason</c>.</summary>
    public long Counter(string instrument, string? reason = null) => metrics.Value(instrument, reason);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting(TestDataDirectories.Setting, TestDataDirectories.New());
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(settings));
        builder.ConfigureLogging(logging => logging.AddProvider(logs));
        // First of the hosted services, so it listens before the consumer records anything.
        builder.ConfigureServices(services => services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp =>
            metrics.ListenTo(sp.GetRequiredService<IMeterFactory>()))));
    }

    /// <summary>Starts the host (and so the consumer), waits until it is ready (schema migrated, subscribed) and
    /// returns a client for its endpoints.</summary>
    public async Task<HttpClient> StartAsync()
    {
        var client = CreateClient();
        await Eventually.TrueAsync(async () => (await client.GetAsync(new Uri("/readyz", UriKind.Relative))).IsSuccessStatusCode, "processor ready",
            context: () => Logs);
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        metrics.Dispose();
    }
}

/// <summary>
/// Counts what one host's meters record. Several processor hosts share this test process, and an exporter that
/// selects meters by name would mix their numbers; the host's own meter factory tells them apart.
/// </summary>
internal sealed class MetricsRecorder : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<string, long> values = new(StringComparer.Ordinal);
    private MeterListener? listener;

    public long Value(string instrument, string? reason) => values.GetValueOrDefault(reason is null ? instrument : $"{instrument}|{reason}");

    public MetricsRecorder ListenTo(IMeterFactory factory)
    {
        listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Meter.Name == ProcessorMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            values.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
            foreach (var tag in tags)
            {
                if (tag.Key == "reason")
                {
                    values.AddOrUpdate($"{instrument.Name}|{tag.Value}", value, (_, sum) => sum + value);
                }
            }
        });
        listener.Start();
        return this;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => listener?.Dispose();
}

/// <summary>Keeps the processor's log lines so a failing test can show what the processor did.</summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly StringBuilder text = new();

    public string Text
    {
        get
        {
            lock (text)
            {
                return text.ToString();
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Write(string line)
    {
        lock (text)
        {
            text.AppendLine(line);
        }
    }

    private sealed class Logger(RecordingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name)}");
            }
        }
    }
}
