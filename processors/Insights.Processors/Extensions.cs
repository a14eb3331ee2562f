using ClickHouse.Driver;
using Confluent.Kafka;
using Insights.Enrichment;
using Insights.Processors.Sessions;
using Insights.ServiceDefaults;
using Insights.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Insights.Processors;

internal static class Extensions
{
    /// <summary>Listens on loopback only unless told otherwise (<c>--urls</c>, <c>URLS</c> or <c>ASPNETCORE_URLS</c>):
    /// the port serves metrics and health probes, nothing a visitor should reach.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8082";

    public static void AddProcessors(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var services = builder.Services;
        services.AddValidatedOptions<KafkaOptions>(builder.Configuration, "Kafka");
        services.AddValidatedOptions<ProcessorOptions, ProcessorOptionsValidator>(builder.Configuration, ProcessorOptions.SectionName);
        services.AddValidatedOptions<ClickHouseStorageOptions>(builder.Configuration, "ClickHouse");

        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ClickHouseStorageOptions>>().Value);
        services.AddSingleton<SchemaMigrator>();
        services.AddSingleton(sp => new ClickHouseClient(sp.GetRequiredService<ClickHouseStorageOptions>().ConnectionString));
        services.AddSingleton(sp => BuildProducer(sp.GetRequiredService<IOptions<KafkaOptions>>().Value));
        services.AddSingleton<ProcessorMetrics>();
        services.AddSingleton<PipelineHealth>();
        builder.AddEnrichment();
        services.AddValidatedOptions<SessionizerOptions>(builder.Configuration, SessionizerOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Sessionizer>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<BatchPreparer>();
        services.AddSingleton<BatchWriter>();
        services.AddHostedService<EventConsumer>();
        Insights.Attribution.Extensions.AddAttribution(builder); // its own consumer group: chats, orders → revenue credits

        services.AddHealthChecks().AddCheck<PipelineHealth>("pipeline", tags: [HealthTags.Ready]);
    }

    /// <summary>For the dead-letter and enriched topics: acknowledged by all in-sync replicas, no duplicates on retry.</summary>
    private static IProducer<byte[]?, byte[]?> BuildProducer(KafkaOptions kafka) =>
        new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            ClientId = $"insights-processors@{Environment.MachineName}",
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            // A dead letter that cannot be delivered within this fails the batch, which is then retried.
            MessageTimeoutMs = 30_000,
        }).Build();
}
