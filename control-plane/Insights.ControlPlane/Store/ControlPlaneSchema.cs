using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Insights.ControlPlane.Store;

/// <summary>Brings the store's schema up to date, or waits until another instance (or a deploy step) has.</summary>
public static class ControlPlaneSchema
{
    // Any fixed number: the key of the advisory lock that serialises migration runs on PostgreSQL.
    private const long MigrationLockKey = 0x496E7369676874;

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
        if (apply && db is PostgresControlPlaneDb)
        {
            // EF Core's PostgreSQL migration lock is a table lock that ends with each migration's transaction, and each
            // instance decides what is pending before it waits for it: two instances starting together both applied the
            // second migration ("relation already exists"). A session advisory lock around the whole run serialises the
            // runs, and a later instance finds nothing pending.
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken);
                try
                {
                    await db.Database.MigrateAsync(cancellationToken);
                }
                finally
                {
                    // Explicitly: a pooled connection keeps its session, and with it the lock, after it is closed.
                    await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None);
                }
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }

            return;
        }

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
