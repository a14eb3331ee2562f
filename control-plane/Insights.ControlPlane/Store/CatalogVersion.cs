using Microsoft.EntityFrameworkCore;

namespace Insights.ControlPlane.Store;

/// <summary>The one row every site or key change moves; services poll it to know when to reload.</summary>
internal static class CatalogVersion
{
    /// <summary>
    /// Takes the catalog's write lock for the open transaction (the row's lock on PostgreSQL, the file's write lock on
    /// SQLite) before anything is read: concurrent writers (three services seeding at start-up, two admins) then run
    /// one after the other and each reads what the previous one committed.
    /// </summary>
    public static Task LockAsync(ControlPlaneDb db, CancellationToken cancellationToken) =>
        db.CatalogState.Where(c => c.Id == 1).ExecuteUpdateAsync(s => s.SetProperty(c => c.Version, c => c.Version), cancellationToken);

    /// <summary>Moves the version in the open transaction, so the change and the signal commit together.</summary>
    public static Task BumpAsync(ControlPlaneDb db, CancellationToken cancellationToken) =>
        db.CatalogState.Where(c => c.Id == 1).ExecuteUpdateAsync(s => s.SetProperty(c => c.Version, c => c.Version + 1), cancellationToken);

    public static Task<long> ReadAsync(ControlPlaneDb db, CancellationToken cancellationToken) =>
        db.CatalogState.AsNoTracking().Where(c => c.Id == 1).Select(c => c.Version).SingleAsync(cancellationToken);
}
