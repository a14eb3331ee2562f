using System.Diagnostics;
using System.Globalization;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Insights.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.Attribution.Tests.Support;

/// <summary>A test's own topic, consumer group and migrated database on the dev stack, and the settings that point at them.</summary>
public sealed class DevStackPipeline(DevStackPipeline.Stack stack, string database, string topic)
{
    /// <summary>Where a dev stack listens: the assembly's (the fixture) or one a test started for itself.</summary>
    public sealed record Stack(string ClickHouseUrl, string KafkaBootstrap)
    {
        public string ConnectionString(string? database = null)
        {
            var uri = new Uri(ClickHouseUrl);
            var cs = $"Host={uri.Host};Port={uri.Port};Protocol={uri.Scheme};Username=default;Password=";
            return database is null ? cs : cs + $";Database={database}";
        }

        /// <summary>Makes the stack's ClickHouse answer 503 to everything, or serve again.</summary>
        public async Task SetClickHouseAvailableAsync(bool available)
        {
            using var http = new HttpClient { BaseAddress = new Uri(ClickHouseUrl) };
            using var response = await http.PostAsync(new Uri($"/_devstack/clickhouse/{(available ? "up" : "down")}", UriKind.Relative), null);
            response.EnsureSuccessStatusCode();
        }
    }

    public const string ReadKey = "shop-read-key-0001";
    public const string WriteKey = "shop-write-key-0001";

    public string Database { get; } = database;

    public string Topic { get; } = topic;

    /// <summary>The attribution group: its committed offsets say how far attribution got.</summary>
    public string GroupId { get; } = $"test-attribution-{Guid.NewGuid():N}";

    /// <summary>The processors' group, which reads the topic (attribution is a step of its batches).</summary>
    public string ProcessorsGroupId { get; } = $"test-processors-{Guid.NewGuid():N}";

    public static Task<DevStackPipeline> CreateAsync(DevStackFixture fixture) =>
        CreateAsync(new Stack(fixture.ClickHouseUrl, fixture.KafkaBootstrap));

    public static async Task<DevStackPipeline> CreateAsync(Stack stack)
    {
        var database = $"attribution_{Guid.NewGuid():N}";
        using (var server = new ClickHouseClient(stack.ConnectionString()))
        {
            await server.ExecuteNonQueryAsync($"CREATE DATABASE {database}", cancellationToken: TestContext.Current.CancellationToken);
        }

        await new SchemaMigrator(new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = database },
            NullLogger<SchemaMigrator>.Instance).MigrateAsync(TestContext.Current.CancellationToken);
        return new DevStackPipeline(stack, database, DevStackFixture.NewTopicName("attribution"));
    }

    /// <summary>The shop site (EUR at 1.10 USD, three goals) and the processors' settings (attribution runs in their
    /// batches), short batches for tests.</summary>
    public Dictionary<string, string?> Settings() => new(StringComparer.Ordinal)
    {
        ["Kafka:BootstrapServers"] = stack.KafkaBootstrap,
        [TestDataDirectories.Setting] = TestDataDirectories.New(),
        ["ClickHouse:ConnectionString"] = stack.ConnectionString(),
        ["ClickHouse:Database"] = Database,
        ["Processors:Topic"] = Topic,
        ["Processors:GroupId"] = ProcessorsGroupId,
        ["Processors:DeadLetterTopic"] = Topic + "-dlq",
        ["Processors:EnrichedTopic"] = Topic + "-enriched",
        ["Processors:BatchMaxEvents"] = "7",
        ["Processors:BatchMaxWaitMs"] = "100",
        ["Attribution:GroupId"] = GroupId,
        ["Kafka:BackoffInitialMs"] = "100",
        ["Kafka:BackoffMaxMs"] = "1000",
        ["Kafka:SessionTimeoutMs"] = "6000",
        ["Kafka:HeartbeatIntervalMs"] = "500",
        ["Kafka:AutoCommitIntervalMs"] = "200",
        ["Sites:0:Id"] = Ev.Site,
        ["Sites:0:TimeZone"] = "UTC",
        ["Sites:0:ReadKeys:0"] = ReadKey,
        ["Sites:0:WriteKeys:0"] = WriteKey,
        ["Sites:0:ReportingCurrency"] = "USD",
        ["Sites:0:CurrencyRates:EUR"] = "1.10",
        ["Sites:0:Goals:0:Id"] = "thanks",
        ["Sites:0:Goals:0:Name"] = "Thank-you page",
        ["Sites:0:Goals:0:Kind"] = "page",
        ["Sites:0:Goals:0:UrlPattern"] = "/thank-you",
        ["Sites:0:Goals:0:Value"] = "5",
        ["Sites:0:Goals:1:Id"] = "chat",
        ["Sites:0:Goals:1:Kind"] = "chat_started",
        ["Sites:0:Goals:2:Id"] = "buy",
        ["Sites:0:Goals:2:Kind"] = "order_placed",
        ["Sites:0:Goals:3:Id"] = "never",
        ["Sites:0:Goals:3:Kind"] = "event",
        ["Sites:0:Goals:3:EventName"] = "Never happens",
    };

    public async Task ProduceAsync(IEnumerable<PipelineEvent> events)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = stack.KafkaBootstrap,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
        }).Build();
        await Task.WhenAll(events.Select(e => producer.ProduceAsync(Topic, new Message<byte[]?, byte[]?>
        {
            // As ingest writes them (EventCodec.ToMessage): the key and the value, no headers.
            Key = EventCodec.EncodeKey(e),
            Value = EventCodec.Encode(e),
        })).ToList());
    }

    /// <summary>Page views straight into the events table, as the processors would have written them (they own that table).</summary>
    public async Task InsertPageviewsAsync(IEnumerable<PipelineEvent> pageviews)
    {
        using var client = ClickHouse();
        var columns = new[] { "event_id", "site_id", "type", "timestamp", "received_at", "anonymous_id", "url", "path", "title" };
        var types = new Dictionary<string, string>
        {
            ["event_id"] = "String", ["site_id"] = "LowCardinality(String)", ["type"] = "LowCardinality(String)", ["timestamp"] = "DateTime64(3, 'UTC')",
            ["received_at"] = "DateTime64(3, 'UTC')", ["anonymous_id"] = "String", ["url"] = "String", ["path"] = "String", ["title"] = "String",
        };
        await client.InsertBinaryAsync("events", columns, pageviews.Select(e => new object[]
        {
            e.EventId, e.SiteId, e.Type, e.Timestamp.UtcDateTime, e.ReceivedAt.UtcDateTime, e.AnonymousId ?? "", e.Url ?? "",
            new Uri(e.Url!).AbsolutePath, e.Title ?? "",
        }), new InsertOptions { ColumnTypes = types }, TestContext.Current.CancellationToken);
    }

    public ClickHouseClient ClickHouse() => new(stack.ConnectionString(Database));

    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        using var client = ClickHouse();
        var collection = new ClickHouseParameterCollection();
        foreach (var (name, value) in parameters)
        {
            collection.AddParameter(name, value);
        }

        var result = await client.ExecuteScalarAsync(sql, collection, cancellationToken: TestContext.Current.CancellationToken);
        return (T)Convert.ChangeType(result!, typeof(T), CultureInfo.InvariantCulture);
    }

    /// <summary>Whether the group has committed everything produced so far on every partition of the topic.</summary>
    public bool CaughtUp() => ConsumerLag.Of(stack.KafkaBootstrap, GroupId, Topic) == 0;

    /// <summary>
    /// Attributes <paramref name="events"/> as the processors' batches do (<see cref="AttributionStep"/>, batches of 7), from
    /// memory rather than Kafka: for a fixture that writes the processors' own tables (events, sessions) itself, over which
    /// the processors must not run.
    /// </summary>
    public async Task AttributeAsync(IReadOnlyList<PipelineEvent> events)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing", DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(Settings());
        builder.Logging.AddFilter(_ => false);
        builder.AddAttribution();
        using var host = builder.Build();
        // Started: the sites' rules (goals, currency rates) come from the control plane, which loads them at start.
        await host.StartAsync(TestContext.Current.CancellationToken);
        var step = host.Services.GetRequiredService<AttributionStep>();
        foreach (var batch in events.Chunk(7))
        {
            await step.AttributeAsync(new AttributionBatch(batch), TestContext.Current.CancellationToken);
        }

        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>The processors (which attribute every batch they write) in memory, started and ready.</summary>
    public async Task<Processors> StartProcessorsAsync()
    {
        var processors = new Processors(Settings());
        using var http = processors.CreateClient();
        await Eventually.TrueAsync(async () => (await http.GetAsync(new Uri("/readyz", UriKind.Relative))).IsSuccessStatusCode, "processors ready");
        return processors;
    }

    public QueryApi StartQueryApi() => new(Settings());

    /// <summary>The real processors host in memory over the test's topic and database.</summary>
    public sealed class Processors(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Insights.Processors.ProcessorOptions>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.ConfigureLogging(logging => logging.ClearProviders());
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        }
    }

    /// <summary>The real query API in memory over the test's database.</summary>
    public sealed class QueryApi(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Insights.QueryApi.QueryApiOptions>
    {
        public RecordedLog Log { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            builder.ConfigureLogging(logging => logging.AddProvider(Log));
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        }
    }
}

internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)), $"{what}: not true after {clock.Elapsed.TotalSeconds:F0} s");
            await Task.Delay(100);
        }
    }
}

/// <summary>Keeps a host's warnings and errors so a failing assertion can show what the server said.</summary>
public sealed class RecordedLog : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> lines = new();

    public string Text => string.Join("\n", lines);

    public ILogger CreateLogger(string categoryName) => new Logger(lines);

    public void Dispose()
    {
    }

    private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {formatter(state, exception)} {exception}");
    }
}
