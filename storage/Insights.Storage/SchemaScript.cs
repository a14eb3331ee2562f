namespace Insights.Storage;

/// <summary>
/// The whole schema as the statements the migrator runs, in its order, for one deployment's settings: the database,
/// the tracking table, then every numbered migration. <see cref="SchemaMigrator"/> runs them against a server; an
/// operator prints them (<c>dotnet run --project deploy/Insights.Deploy -- schema --cluster NAME</c>) to review or
/// apply the cluster form by hand. One source: both come from the same migration files and <see cref="MigrationRenderer"/>.
/// </summary>
public static class SchemaScript
{
    /// <summary><c>CREATE DATABASE</c>, on every node of the cluster when there is one.</summary>
    public static string CreateDatabase(ClickHouseStorageOptions options) =>
        $"CREATE DATABASE IF NOT EXISTS {options.Database} {MigrationRenderer.OnCluster(options)}".TrimEnd();

    /// <summary>The tracking table's statements (run before anything else, on every start).</summary>
    public static IReadOnlyList<string> TrackingTable(ClickHouseStorageOptions options) =>
        MigrationRenderer.Render(SchemaMigrator.TrackingTableSql, options);

    /// <summary>Every migration with its statements, in the order they are applied.</summary>
    public static IReadOnlyList<(Migration Migration, IReadOnlyList<string> Statements)> Migrations(ClickHouseStorageOptions options) =>
        [.. SchemaMigrator.Migrations.Select(m => (m, MigrationRenderer.Render(m.Sql, options)))];
}
