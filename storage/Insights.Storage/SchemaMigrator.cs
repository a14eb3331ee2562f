using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ClickHouse.Driver;
using Microsoft.Extensions.Logging;

namespace Insights.Storage;

/// <summary>
/// Applies the numbered migrations in order, each once. Safe to run from several processes at start-up:
/// every statement is idempotent (IF NOT EXISTS, or a guard, below) and a migration is recorded only after all of
/// it ran, so one interrupted half-way is run again from its start. A recorded migration whose text changed since
/// fails loudly rather than leaving the schema in doubt.
/// <para>
/// A statement that cannot be written idempotently (swapping two tables) carries a guard, a comment at its start:
/// <c>/* only if: SELECT … */ statement</c>. The statement runs only when the guard's query answers non-zero, so
/// running the migration again after a crash at any point goes on from where the schema is.
/// </para>
/// <para>
/// Migrators take turns: within a process (the processors' consumer groups each migrate at start-up) and, when a
/// migration is pending, across processes through a lock in the database (<see cref="MigrationLock"/>), so two
/// processors started at once never run the same guarded step twice. Applied migrations are read again once the lock
/// is held, so the second one skips what the first recorded. A start-up with nothing to apply takes no lock.
/// </para>
/// </summary>
public sealed partial class SchemaMigrator(ClickHouseStorageOptions options, ILogger<SchemaMigrator> logger)
{
    /// <summary>One migration run at a time in this process, whichever consumer group starts it.</summary>
    private static readonly SemaphoreSlim Turn = new(1, 1);

    public static IReadOnlyList<Migration> Migrations { get; } = LoadMigrations();

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await Turn.WaitAsync(cancellationToken);
        try
        {
            await MigrateAsync(Migrations, cancellationToken);
        }
        finally
        {
            Turn.Release();
        }
    }

    /// <summary>Applies <paramref name="migrations"/> (the tests stop part-way to build an older schema).</summary>
    internal async Task MigrateAsync(IEnumerable<Migration> migrations, CancellationToken cancellationToken)
    {
        using var server = new ClickHouseClient(options.ConnectionString);
        await server.ExecuteNonQueryAsync(SchemaScript.CreateDatabase(options), cancellationToken: cancellationToken);

        using var client = new ClickHouseClient(WithDatabase(options.ConnectionString, options.Database));
        foreach (var statement in SchemaScript.TrackingTable(options))
        {
            await client.ExecuteNonQueryAsync(statement, cancellationToken: cancellationToken);
        }

        var list = migrations.ToList();
        var applied = await AppliedAsync(client, cancellationToken);
        var pending = list.Any(m => !applied.ContainsKey(m.Version));
        await using var turn = pending
            ? await MigrationLock.AcquireAsync(WithDatabase(options.ConnectionString, options.Database), options, logger, cancellationToken)
            : null;
        if (pending)
        {
            applied = await AppliedAsync(client, cancellationToken); // what the lock's previous holder recorded
        }

        foreach (var migration in list)
        {
            if (applied.TryGetValue(migration.Version, out var checksum))
            {
                if (checksum != migration.Checksum)
                {
                    throw new InvalidOperationException(
                        $"Migration {migration.Name} was changed after it was applied to {options.Database}. " +
                        "Never edit an applied migration: add a new numbered one.");
                }

                continue;
            }

            foreach (var statement in MigrationRenderer.Render(migration.Sql, options))
            {
                var guard = Guard().Match(statement);
                if (guard.Success && Convert.ToInt64(await client.ExecuteScalarAsync(guard.Groups[1].Value, cancellationToken: cancellationToken),
                        System.Globalization.CultureInfo.InvariantCulture) == 0)
                {
                    continue;
                }

                await client.ExecuteNonQueryAsync(statement, cancellationToken: cancellationToken);
            }

            await client.InsertBinaryAsync("schema_migrations", ["version", "name", "checksum"],
                [[(uint)migration.Version, migration.Name, migration.Checksum]], cancellationToken: cancellationToken);
            logger.LogInformation("Applied migration {Migration} to {Database}", migration.Name, options.Database);
        }
    }

    private static async Task<Dictionary<int, string>> AppliedAsync(ClickHouseClient client, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, string>();
        using var reader = await client.ExecuteReaderAsync(
            "SELECT version, argMax(checksum, applied_at) FROM schema_migrations GROUP BY version", cancellationToken: cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied[Convert.ToInt32(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)] = reader.GetString(1);
        }

        return applied;
    }

    /// <summary><c>/* only if: query */</c> at a statement's start.</summary>
    [GeneratedRegex(@"^/\*\s*only if:\s*(.+?)\s*\*/", RegexOptions.Singleline)]
    private static partial Regex Guard();

    internal static string WithDatabase(string connectionString, string database) =>
        string.Join(';', connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Where(part => !part.TrimStart().StartsWith("Database=", StringComparison.OrdinalIgnoreCase))
            .Append($"Database={database}"));

    internal const string TrackingTableSql = """
        CREATE TABLE IF NOT EXISTS {{table:schema_migrations}} {{on_cluster}}
        (
            version UInt32,
            name String,
            checksum String,
            applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
        )
        ENGINE = {{engine:ReplacingMergeTree(applied_at)}}
        ORDER BY version;

        {{distributed:schema_migrations:version}};
        """;

    private static List<Migration> LoadMigrations()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var migrations = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith("Migrations/", StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(name =>
            {
                using var stream = assembly.GetManifestResourceStream(name)!;
                using var reader = new StreamReader(stream, Encoding.UTF8);
                var sql = reader.ReadToEnd();
                var file = name["Migrations/".Length..^".sql".Length];
                var version = int.Parse(file[..file.IndexOf('_', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
                return new Migration(version, file, sql, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sql))));
            })
            .OrderBy(m => m.Version)
            .ToList();

        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null
            ? migrations
            : throw new InvalidOperationException($"Two migrations share version {duplicate.Key}: {string.Join(", ", duplicate.Select(m => m.Name))}.");
    }
}

/// <summary>One numbered migration file.</summary>
public sealed record Migration(int Version, string Name, string Sql, string Checksum);
