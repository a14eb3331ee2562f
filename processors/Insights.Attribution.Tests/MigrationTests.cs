using Insights.Storage;

namespace Insights.Attribution.Tests;

/// <summary>Attribution's migrations (0010–0015) render for a single node and for a replicated cluster.</summary>
public sealed class MigrationTests
{
    public static TheoryData<string> AttributionMigrations =>
        [.. SchemaMigrator.Migrations.Where(m => m.Version is >= 10 and <= 19).Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(AttributionMigrations))]
    public void Every_table_is_replicated_and_distributed_on_a_cluster(string name)
    {
        var migration = SchemaMigrator.Migrations.Single(m => m.Name == name);
        var statements = MigrationRenderer.Render(migration.Sql, new ClickHouseStorageOptions { Cluster = "insights" });

        foreach (var create in statements.Where(s => s.StartsWith("CREATE TABLE", StringComparison.Ordinal) && !s.Contains("Distributed(", StringComparison.Ordinal)))
        {
            Assert.Contains("_local ON CLUSTER insights", create, StringComparison.Ordinal);
            Assert.Contains("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}'", create, StringComparison.Ordinal);
        }

        Assert.Equal(statements.Count(s => s.StartsWith("CREATE TABLE", StringComparison.Ordinal) && !s.Contains("Distributed(", StringComparison.Ordinal)),
            statements.Count(s => s.Contains("ENGINE = Distributed(insights", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_visitor_rollup_reads_the_shard_local_events_on_a_cluster()
    {
        var migration = SchemaMigrator.Migrations.Single(m => m.Name == "0015_visitor_quarters");

        var statements = MigrationRenderer.Render(migration.Sql, new ClickHouseStorageOptions { Cluster = "insights" });

        Assert.Contains(statements, s => s.Contains("TO visitor_quarters_local", StringComparison.Ordinal) && s.Contains("FROM events_local", StringComparison.Ordinal));
    }
}
