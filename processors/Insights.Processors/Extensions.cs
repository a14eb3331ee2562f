using ClickHouse.Driver;
using Insights.ControlPlane;
using Insights.Enrichment;
using Insights.Processors.Consuming;
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
        services.AddControlPlane(builder.Configuration); // sites: the live SiteCatalog (attribution rules), loaded before the consumers start
        services.AddValidatedOptions<ProcessorOptions, ProcessorOptionsValidator>(builder.Configuration, ProcessorOptions.SectionName);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ClickHouseStorageOptions>>().Value);
        services.AddSingleton(sp => new ClickHouseClient(sp.GetRequiredService<ClickHouseStorageOptions>().ConnectionString));
        services.AddSingleton<ProcessorMetrics>();
        services.AddSingleton<PipelineHealth>();
        builder.AddEnrichment();
        services.AddValidatedOptions<SessionizerOptions>(builder.Configuration, SessionizerOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Sessionizer>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<BatchPreparer>();
        services.AddSingleton<BatchWriter>();
        services.AddHostedService<StatsRollup>(); // settles the stats report's quarter hours
        services.AddBatchConsumer<EventBatchHandler>(builder.Configuration); // also the Kafka section, the dead-letter producer, the migrator
        Insights.Attribution.Extensions.AddAttribution(builder); // a step of the same batches: chats, orders → revenue credits

        services.AddHealthChecks().AddCheck<PipelineHealth>("pipeline", tags: [HealthTags.Ready]);
    }
}
