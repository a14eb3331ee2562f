using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Insights.ControlPlane.Store;

/// <summary>The control plane on SQLite; carries the SQLite migrations (<c>Migrations/Sqlite</c>).</summary>
public sealed class SqliteControlPlaneDb(DbContextOptions<SqliteControlPlaneDb> options) : ControlPlaneDb(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // SQLite has no timestamp type and EF cannot compare or sort DateTimeOffset text there; UTC ticks compare and
        // sort as numbers, so "expired" and "newest first" run in the database as on PostgreSQL. Every time stored is UTC.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcTicksConverter>();
    }

    private sealed class UtcTicksConverter() : ValueConverter<DateTimeOffset, long>(
        v => v.UtcTicks,
        v => new DateTimeOffset(v, TimeSpan.Zero));
}

/// <summary>The control plane on PostgreSQL; carries the PostgreSQL migrations (<c>Migrations/PostgreSql</c>).</summary>
public sealed class PostgresControlPlaneDb(DbContextOptions<PostgresControlPlaneDb> options) : ControlPlaneDb(options);

/// <summary>For <c>dotnet ef migrations add X --context SqliteControlPlaneDb</c>: a throw-away file, never opened.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteControlPlaneDb>
{
    public SqliteControlPlaneDb CreateDbContext(string[] args) =>
        (SqliteControlPlaneDb)ControlPlaneDbFactory.For(ControlPlaneProvider.Sqlite, "Data Source=design-time.db").CreateDbContext();
}

/// <summary>For <c>dotnet ef migrations add X --context PostgresControlPlaneDb</c>: no server is contacted.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresControlPlaneDb>
{
    public PostgresControlPlaneDb CreateDbContext(string[] args) =>
        (PostgresControlPlaneDb)ControlPlaneDbFactory.For(ControlPlaneProvider.PostgreSql, "Host=localhost;Database=design_time").CreateDbContext();
}
