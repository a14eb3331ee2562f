using Confluent.Kafka;
using Insights.ServiceDefaults;
using Insights.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Processors.Consuming;

public static class ConsumingExtensions
{
    /// <summary>
    /// A consumer group run by <see cref="BatchConsumerLoop{THandler}"/> with <typeparamref name="THandler"/>, and
    /// what every group of the host shares once: the <c>Kafka</c> section, the dead-letter producer, the schema migrator.
    /// </summary>
    public static IServiceCollection AddBatchConsumer<THandler>(this IServiceCollection services, IConfiguration configuration)
        where THandler : class, IBatchHandler
    {
        services.AddValidatedOptions<KafkaOptions, KafkaOptionsValidator>(configuration, KafkaOptions.SectionName);
        services.AddValidatedOptions<ClickHouseStorageOptions>(configuration, "ClickHouse");
        services.TryAddSingleton(sp => new SchemaMigrator(
            sp.GetRequiredService<IOptions<ClickHouseStorageOptions>>().Value, sp.GetRequiredService<ILogger<SchemaMigrator>>()));
        services.TryAddSingleton(sp => BuildProducer(sp.GetRequiredService<IOptions<KafkaOptions>>().Value));
        services.TryAddSingleton<DeadLetters>();
        services.TryAddSingleton<THandler>();
        services.AddHostedService<BatchConsumerLoop<THandler>>();
        return services;
    }

    /// <summary>For dead letters (and the processors' enriched topic): acknowledged by all in-sync replicas, no
    /// duplicates on retry.</summary>
    private static IProducer<byte[]?, byte[]?> BuildProducer(KafkaOptions kafka) =>
        new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            ClientId = $"insights-processors@{Environment.MachineName}",
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            // A dead letter that cannot be delivered within this fails the batch's attempt, which is then retried.
            MessageTimeoutMs = 30_000,
            // Whether it was delivered is all either sender reads of a report: the default ("all") copies every
            // message's key, value and headers back into managed memory, which for the enriched topic is each live
            // event's whole JSON again.
            DeliveryReportFields = "status",
        }).Build();
}
