using Confluent.Kafka;
using Insights.DevStack.Testing;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// Ingest, processors and the query API as three processes on the test run's dev stack, with their own
/// database, topics and consumer group, so they share nothing with other test assemblies.
/// </summary>
public sealed class SystemFixture : IAsyncLifetime
{
    private readonly DevStackFixture stack;

    /// <summary>
    /// The stack holds this run's topics as it holds run.sh's: the events and enriched topics with 12 partitions, and
    /// the events topic trimmed behind this run's two consumer groups. Topics a client merely touches get the mock
    /// broker's 4 partitions and no trimming: a quarter of the room run.sh's processors have to fall behind (the mock keeps
    /// 5 MiB per partition and drops older batches, read or not), and a log that grows over the whole test run, which
    /// the mock walks on every fetch.
    /// </summary>
    public SystemFixture()
    {
        stack = DevStackFixture.With(new Dictionary<string, string>
        {
            [$"Kafka:Topics:{EventsTopic}"] = "12",
            [$"Kafka:Topics:{EnrichedTopic}"] = "12",
            [$"Kafka:Topics:{DeadLetterTopic}"] = "4",
            [$"Kafka:ConsumedBy:{EventsTopic}"] = $"{ProcessorsGroup},{AttributionGroup}",
        });
    }

    public const string WriteKey = "demo-write-key-0001";
    public const string ServerKey = "demo-server-key-0001";
    public const string ReadKey = "demo-read-key-0001";
    public const string Site = "demo";

    /// <summary>
    /// A third site, configured through the environment only (as an operator would add one), that hostile-input runs
    /// aim at so their counts are not mixed with other tests' events. Its webhook secrets turn on all three integrations.
    /// </summary>
    public static readonly HostileInput.StormSite Storm = new("storm", "storm-write-key-0001", "storm-server-key-0001", "storm-read-key-0001",
        "storm-livechat-secret-0001", "storm-shopify-secret-0001", "storm-woocommerce-secret-0001");

    /// <summary>The demo site's webhook secrets, set through the environment as a deployment would (Sites:0 is the demo site).</summary>
    public const string LiveChatSecret = "e2e-livechat-secret-0001";
    public const string ShopifySecret = "e2e-shopify-secret-0001";
    public const string WooCommerceSecret = "e2e-woocommerce-secret-0001";

    private readonly string run = Guid.NewGuid().ToString("N")[..8];
    private readonly List<ServiceProcess> services = [];

    public ServiceProcess Ingest { get; private set; } = null!;

    public ServiceProcess Processors { get; private set; } = null!;

    public ServiceProcess QueryApi { get; private set; } = null!;

    public string EventsTopic => $"e2e.{run}.events";

    public string DeadLetterTopic => $"e2e.{run}.dlq";

    public string EnrichedTopic => $"e2e.{run}.enriched";

    public string Database => $"e2e_{run}";

    public string ProcessorsGroup => $"e2e-{run}";

    public string AttributionGroup => $"e2e-{run}-attribution";

    public DevStackFixture Stack => stack;

    public async ValueTask InitializeAsync()
    {
        await stack.InitializeAsync();
        var deadLetters = DeadLetterTopic;
        var enriched = EnrichedTopic;
        CreateTopics(EventsTopic, deadLetters, enriched);

        var uri = new Uri(stack.ClickHouseUrl);
        var common = new Dictionary<string, string>
        {
            ["Kafka__BootstrapServers"] = stack.KafkaBootstrap,
            ["ClickHouse__ConnectionString"] = $"Host={uri.Host};Port={uri.Port};Username=default;Password=",
            ["ClickHouse__Database"] = Database,
            ["Logging__LogLevel__Default"] = "Warning",
            // One control-plane file for the three services, as scripts/run.sh gives them.
            ["ControlPlane__DataDirectory"] = TestDataDirectories.New(),
            ["Sites__0__LiveChatWebhookSecret"] = LiveChatSecret,
            ["Sites__0__ShopifyWebhookSecret"] = ShopifySecret,
            ["Sites__0__WooCommerceWebhookSecret"] = WooCommerceSecret,
        };
        foreach (var (key, value) in StormSiteSettings())
        {
            common[key] = value;
        }

        Processors = Start("Insights.Processors", common, new()
        {
            ["Processors__Topic"] = EventsTopic,
            ["Processors__DeadLetterTopic"] = deadLetters,
            ["Processors__EnrichedTopic"] = enriched,
            ["Processors__GroupId"] = $"e2e-{run}",
            ["Processors__BatchMaxWaitMs"] = "100",
            ["Attribution__Topic"] = EventsTopic,
            ["Attribution__GroupId"] = AttributionGroup,
            ["Attribution__DeadLetterTopic"] = deadLetters,
        });
        await Processors.WaitUntilHealthyAsync("/readyz", RunScript.StartTimeout); // ready = schema migrated

        Ingest = Start("Insights.Ingest", common, new() { ["Kafka__EventsTopic"] = EventsTopic });
        QueryApi = Start("Insights.QueryApi", common, new() { ["Live__Topic"] = enriched });
        await Task.WhenAll(Ingest.WaitUntilHealthyAsync("/readyz", RunScript.StartTimeout),
            QueryApi.WaitUntilHealthyAsync("/readyz", RunScript.StartTimeout));
    }

    /// <summary>The storm site as environment settings: index 2, after the two sites of appsettings.Development.json.</summary>
    private static Dictionary<string, string> StormSiteSettings() => new()
    {
        ["Sites__2__Id"] = Storm.Id,
        ["Sites__2__Name"] = "Hostile-input target",
        ["Sites__2__WriteKeys__0"] = Storm.WriteKey,
        ["Sites__2__ServerKeys__0"] = Storm.ServerKey,
        ["Sites__2__ReadKeys__0"] = Storm.ReadKey,
        ["Sites__2__RateLimitPerSecond"] = "10000000",
        ["Sites__2__LiveChatWebhookSecret"] = Storm.LiveChatSecret,
        ["Sites__2__ShopifyWebhookSecret"] = Storm.ShopifySecret,
        ["Sites__2__WooCommerceWebhookSecret"] = Storm.WooCommerceSecret,
    };

    /// <summary>Puts raw bytes on the events topic, as a broken producer would.</summary>
    public async Task ProduceRawAsync(string key, byte[] value)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = stack.KafkaBootstrap }).Build();
        await producer.ProduceAsync(EventsTopic, new Message<string, byte[]> { Key = key, Value = value });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in services)
        {
            await service.DisposeAsync();
        }

        await stack.DisposeAsync();
    }

    private ServiceProcess Start(string project, Dictionary<string, string> common, Dictionary<string, string> own)
    {
        var service = ServiceProcess.Start(project, common.Concat(own).ToDictionary());
        services.Add(service);
        return service;
    }

    /// <summary>The dev broker creates a topic on a metadata request for it (4 partitions); consumers need it to exist.</summary>
    private void CreateTopics(params string[] topics)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = stack.KafkaBootstrap }).Build();
        foreach (var topic in topics)
        {
            admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        }
    }
}
