using Insights.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Insights.Enrichment;

public static class Extensions
{
    /// <summary>
    /// Registers <see cref="EnrichmentPipeline"/> (a singleton: it holds the caches and the memory-mapped databases)
    /// with its options from section <c>Enrichment</c>, checked at start-up, and its metrics.
    /// </summary>
    public static IHostApplicationBuilder AddEnrichment(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<EnrichmentOptions, EnrichmentOptionsValidator>(builder.Configuration, EnrichmentOptions.SectionName);
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton<EnrichmentMetrics>();
        builder.Services.TryAddSingleton<EnrichmentPipeline>();
        return builder;
    }
}
