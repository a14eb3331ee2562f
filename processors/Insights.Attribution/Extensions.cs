using System.Diagnostics.Metrics;
using ClickHouse.Driver;
using Insights.Attribution.Engine;
using Insights.Attribution.Storage;
using Insights.ControlPlane;
using Insights.Contracts;
using Insights.Processors.Consuming;
using Insights.ServiceDefaults;
using Insights.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Attribution;

public static class Extensions
{
    /// <summary>
    /// Attribution as a step of the processors' batches (<see cref="AttributionStep"/>, with <see cref="AttributionProgress"/>
    /// for the offsets of its group), its options (section <c>Attribution</c>, checked at start-up together with the sites'
    /// attribution settings) and metrics. Nothing is registered when <c>Attribution:Enabled</c> is false.
    /// </summary>
    public static IHostApplicationBuilder AddAttribution(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        if (!configuration.GetValue(AttributionOptions.SectionName + ":" + nameof(AttributionOptions.Enabled), true))
        {
            return builder;
        }

        var services = builder.Services;
        services.AddValidatedOptions<AttributionOptions>(configuration, AttributionOptions.SectionName);
        // Where the facts are (bound by the processors' consumer too; binding again changes nothing).
        services.AddValidatedOptions<ClickHouseStorageOptions>(configuration, "ClickHouse");

        services.AddSingleton<IValidateOptions<AttributionOptions>>(new AttributionOptionsValidator(configuration));
        services.AddMetrics();
        services.TryAddSingleton<AttributionMetrics>();
        // Sites (goals, currency, window) from the one store every service reads, as in the processors' host; the
        // call is idempotent, so a host that registered the control plane already keeps its registration.
        services.AddControlPlane(configuration);
        services.TryAddSingleton(provider => new SiteRulebook(provider.GetRequiredService<SiteCatalog>(),
            provider.GetRequiredService<IOptions<AttributionOptions>>().Value.ToEngineSettings()));
        services.TryAddSingleton(provider => new AttributionEngine(provider.GetRequiredService<SiteRulebook>(), provider.GetService<IMeterFactory>()));
        services.TryAddSingleton(provider =>
        {
            var storage = provider.GetRequiredService<IOptions<ClickHouseStorageOptions>>().Value;
            // Its own client: the processors' is theirs to configure, and a client is cheap (it pools HTTP connections).
            return new ClickHouseFacts(new ClickHouseClient(storage.ConnectionString), storage.Database,
                TimeSpan.FromSeconds(provider.GetRequiredService<IOptions<AttributionOptions>>().Value.QueryTimeoutSeconds), storage.LookupMaxBytes);
        });
        services.TryAddSingleton<AttributionStep>();
        services.TryAddSingleton<AttributionProgress>();
        return builder;
    }
}
