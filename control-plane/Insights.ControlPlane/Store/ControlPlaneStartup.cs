using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane.Store;

/// <summary>The start-up step: the schema is current before anything reads the store.</summary>
internal sealed class ControlPlaneStartup(
    IDbContextFactory<ControlPlaneDb> factory,
    IOptions<ControlPlaneOptions> options,
    ILogger<ControlPlaneStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        ControlPlaneSchema.EnsureCurrentAsync(factory, options.Value.ApplyMigrations, logger, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
