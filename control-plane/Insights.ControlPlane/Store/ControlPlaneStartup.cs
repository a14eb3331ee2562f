using Insights.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane.Store;

/// <summary>
/// The start-up step: the schema is current and the configured sites are seeded before anything reads the store
/// (the site directory's first load comes after it).
/// </summary>
internal sealed class ControlPlaneStartup(
    IDbContextFactory<ControlPlaneDb> factory,
    IOptions<ControlPlaneOptions> options,
    IOptions<List<SiteOptions>> seedSites,
    TimeProvider time,
    ILogger<ControlPlaneStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await ControlPlaneSchema.EnsureCurrentAsync(factory, options.Value.ApplyMigrations, logger, cancellationToken);
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        if (await SiteSeeder.SeedAsync(db, seedSites.Value, time.GetUtcNow(), cancellationToken))
        {
            logger.SitesSeeded(seedSites.Value.Count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
