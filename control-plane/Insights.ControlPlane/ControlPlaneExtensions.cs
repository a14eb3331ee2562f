using Insights.ControlPlane.Store;
using Insights.Contracts;
using Insights.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane;

public static class ControlPlaneExtensions
{
    /// <summary>
    /// The control plane for a service: validated <c>ControlPlane</c> options, <c>IDbContextFactory&lt;ControlPlaneDb&gt;</c>
    /// (the configured provider behind it), the start-up step that migrates and seeds the sites of section <c>Sites</c>,
    /// and the live <see cref="SiteCatalog"/> the site directory keeps current. Calling it twice registers once.
    /// </summary>
    public static IServiceCollection AddControlPlane(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(ControlPlaneDbFactory)))
        {
            return services;
        }

        services.AddValidatedOptions<ControlPlaneOptions, ControlPlaneOptionsValidator>(configuration, ControlPlaneOptions.SectionName);
        services.AddOptions<List<SiteOptions>>().Bind(configuration.GetSection(SiteCatalogRegistration.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<List<SiteOptions>>, SeedSitesValidator>();
        services.TryAddSingleton(TimeProvider.System);

        services.AddSingleton(provider => ControlPlaneDbFactory.From(
            provider.GetRequiredService<IOptions<ControlPlaneOptions>>().Value,
            provider.GetRequiredService<IHostEnvironment>().ContentRootPath));
        services.AddSingleton<IDbContextFactory<ControlPlaneDb>>(provider => provider.GetRequiredService<ControlPlaneDbFactory>());

        // Hosted services start in registration order: the schema and the seed are in place before the directory's
        // first load, and both before anything registered after this call (the HTTP server, the consumers).
        services.AddHostedService<ControlPlaneStartup>();
        services.AddSingleton(new SiteCatalog([]));
        services.AddSingleton<SiteDirectory>();
        services.AddHostedService(provider => provider.GetRequiredService<SiteDirectory>());
        services.AddHealthChecks().AddCheck<SiteDirectory>("control-plane", tags: [HealthTags.Ready]);
        services.AddSingleton<SiteAdmin>();
        return services;
    }
}
