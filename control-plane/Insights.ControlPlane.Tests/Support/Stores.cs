using Insights.ControlPlane.Store;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Insights.ControlPlane.Tests.Support;

/// <summary>Where a test's store lives: a fresh database of one provider per call.</summary>
public interface IStoreProvider
{
    ControlPlaneProvider Provider { get; }

    /// <summary>The connection string of a new, empty database.</summary>
    Task<string> NewDatabaseAsync();
}

/// <summary>SQLite files in a temporary folder deleted with the test class.</summary>
public sealed class SqliteStores : IStoreProvider, IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("insights-cp-").FullName;

    public ControlPlaneProvider Provider => ControlPlaneProvider.Sqlite;

    public string Folder => folder;

    public Task<string> NewDatabaseAsync() =>
        Task.FromResult(new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, Guid.NewGuid().ToString("N") + ".db") }.ToString());

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}

/// <summary>Databases on the run's private PostgreSQL server.</summary>
public sealed class PostgresStores(PostgresServer server) : IStoreProvider
{
    public ControlPlaneProvider Provider => ControlPlaneProvider.PostgreSql;

    public Task<string> NewDatabaseAsync() => server.CreateDatabaseAsync();
}

/// <summary>Log lines a test can assert on.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    private readonly List<(LogLevel Level, int EventId, string Message)> entries = [];

    public IReadOnlyList<(LogLevel Level, int EventId, string Message)> Entries
    {
        get
        {
            lock (entries)
            {
                return [.. entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (entries)
        {
            entries.Add((logLevel, eventId.Id, formatter(state, exception)));
        }
    }
}
