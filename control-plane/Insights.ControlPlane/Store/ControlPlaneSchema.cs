using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Insights.ControlPlane.Store;

/// <summary>Brings the store's schema up to date, or waits until another instance (or a deploy step) has.</summary>
public static class ControlPlaneSchema
{
    /// <summary>
    /// <paramref name="apply"/>: runs the pending migrations. EF Core takes a migration lock first (a lock table on SQLite,
    /// a table lock on PostgreSQL), so instances starting together migrate once and the others find nothing to do.
    /// Otherwise polls until no migration is pending, logging which it waits for.
    /// </summary>
    public static async Task EnsureCurrentAsync(IDbContextFactory<ControlPlaneDb> factory, bool apply, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(logger);
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        if (apply)
        {
            await db.Database.MigrateAsync(cancellationToken);
            return;
        }

        while (true)
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count == 0)
            {
                return;
            }

            logger.WaitingForMigrations(pending.Count, string.Join(", ", pending));
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        }
    }
}
