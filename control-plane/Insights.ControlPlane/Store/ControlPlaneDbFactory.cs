using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Insights.ControlPlane.Store;

/// <summary>
/// Creates the configured provider's <see cref="ControlPlaneDb"/> subclass behind the provider-neutral type, so every
/// consumer asks for <c>IDbContextFactory&lt;ControlPlaneDb&gt;</c> and never names a provider.
/// </summary>
public sealed class ControlPlaneDbFactory : IDbContextFactory<ControlPlaneDb>
{
    /// <summary>How long a SQLite statement waits for another process's write lock before failing as "database is locked".</summary>
    internal static readonly TimeSpan SqliteBusyTimeout = TimeSpan.FromSeconds(30);

    private readonly Func<ControlPlaneDb> create;

    private ControlPlaneDbFactory(ControlPlaneProvider provider, Func<ControlPlaneDb> create)
    {
        Provider = provider;
        this.create = create;
    }

    public ControlPlaneProvider Provider { get; }

    /// <summary>The factory the options describe; creates the SQLite file's folder when missing.</summary>
    public static ControlPlaneDbFactory From(ControlPlaneOptions options, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(options);
        var connectionString = options.ConnectionString;
        if (options.Provider == ControlPlaneProvider.Sqlite && string.IsNullOrWhiteSpace(connectionString))
        {
            var folder = options.DataDirectoryPath(contentRoot);
            Directory.CreateDirectory(folder);
            connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "control-plane.db") }.ToString();
        }

        return For(options.Provider, connectionString!);
    }

    /// <summary>A factory for one provider and connection string (tests, tools).</summary>
    public static ControlPlaneDbFactory For(ControlPlaneProvider provider, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        switch (provider)
        {
            case ControlPlaneProvider.Sqlite:
                var sqlite = new DbContextOptionsBuilder<SqliteControlPlaneDb>()
                    .UseSqlite(WithBusyTimeout(connectionString))
                    .AddInterceptors(SqliteConnectionSetup.Instance)
                    .Options;
                return new(provider, () => new SqliteControlPlaneDb(sqlite));
            case ControlPlaneProvider.PostgreSql:
                var postgres = new DbContextOptionsBuilder<PostgresControlPlaneDb>()
                    .UseNpgsql(connectionString)
                    .Options;
                return new(provider, () => new PostgresControlPlaneDb(postgres));
            default:
                throw new ArgumentOutOfRangeException(nameof(provider), provider, "unknown control-plane provider");
        }
    }

    public ControlPlaneDb CreateDbContext() => create();

    public Task<ControlPlaneDb> CreateDbContextAsync(CancellationToken cancellationToken = default) => Task.FromResult(create());

    // Microsoft.Data.Sqlite retries a busy database until the command timeout; make that the busy timeout.
    private static string WithBusyTimeout(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.DefaultTimeout < SqliteBusyTimeout.TotalSeconds)
        {
            builder.DefaultTimeout = (int)SqliteBusyTimeout.TotalSeconds;
        }

        return builder.ToString();
    }

    /// <summary>
    /// Every SQLite connection: write-ahead log (readers never block the writer, so three services polling one file
    /// do not lock each other out) and a busy timeout (a writer waits for another process's write instead of failing).
    /// WAL is a property of the file; asking again on a file already in WAL is a no-op.
    /// </summary>
    private sealed class SqliteConnectionSetup : DbConnectionInterceptor
    {
        public static readonly SqliteConnectionSetup Instance = new();

        private static readonly string Pragmas =
            $"PRAGMA busy_timeout = {(int)SqliteBusyTimeout.TotalMilliseconds}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
        {
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
        }

        public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
