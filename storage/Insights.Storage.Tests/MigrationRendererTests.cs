using Insights.Storage;

namespace Insights.Storage.Tests;

public sealed class MigrationRendererTests
{
    private const string Migration = """
        -- a comment with {{table:nope}} that is dropped
        CREATE TABLE IF NOT EXISTS {{table:events}} {{on_cluster}} (a String)
        ENGINE = {{engine:ReplacingMergeTree(inserted_at)}}
        ORDER BY a
        TTL now() + INTERVAL {{retention_days}} DAY;

        {{distributed:events:cityHash64(a)}};
        CREATE TABLE IF NOT EXISTS {{table:totals}} {{on_cluster}} (n UInt64) ENGINE = {{engine:MergeTree}} ORDER BY n;
        """;

    [Fact]
    public void A_single_node_gets_plain_engines_and_no_distributed_tables()
    {
        var statements = MigrationRenderer.Render(Migration, new ClickHouseStorageOptions { RetentionDays = 30 });

        Assert.Equal(2, statements.Count);
        Assert.Equal(
            "CREATE TABLE IF NOT EXISTS events  (a String)\nENGINE = ReplacingMergeTree(inserted_at)\nORDER BY a\nTTL now() + INTERVAL 30 DAY",
            statements[0].ReplaceLineEndings("\n"));
        Assert.Equal("CREATE TABLE IF NOT EXISTS totals  (n UInt64) ENGINE = MergeTree ORDER BY n", statements[1]);
    }

    [Fact]
    public void A_cluster_gets_replicated_local_tables_and_distributed_fronts()
    {
        var options = new ClickHouseStorageOptions { Cluster = "analytics", Database = "insights", RetentionDays = 400 };

        var statements = MigrationRenderer.Render(Migration, options);

        Assert.Equal(3, statements.Count);
        Assert.StartsWith("CREATE TABLE IF NOT EXISTS events_local ON CLUSTER analytics (a String)", statements[0], StringComparison.Ordinal);
        Assert.Contains(
            "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', inserted_at)",
            statements[0], StringComparison.Ordinal);
        Assert.Equal(
            "CREATE TABLE IF NOT EXISTS events ON CLUSTER analytics AS events_local " +
            "ENGINE = Distributed(analytics, insights, events_local, cityHash64(a))",
            statements[1]);
        Assert.Contains("ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')", statements[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Every_shipped_migration_renders_for_both_deployments()
    {
        Assert.NotEmpty(SchemaMigrator.Migrations);
        foreach (var migration in SchemaMigrator.Migrations)
        {
            Assert.NotEmpty(MigrationRenderer.Render(migration.Sql, new ClickHouseStorageOptions()));
            Assert.All(MigrationRenderer.Render(migration.Sql, new ClickHouseStorageOptions { Cluster = "c" }),
                s => Assert.DoesNotContain("{{", s, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void An_unknown_placeholder_is_an_error_not_silently_kept() =>
        Assert.Throws<InvalidOperationException>(() => MigrationRenderer.Render("SELECT {{nope}};", new ClickHouseStorageOptions()));

    [Fact]
    public void The_events_rebuild_reads_every_shard_and_writes_through_the_distributed_table_on_a_cluster()
    {
        var migration = Assert.Single(SchemaMigrator.Migrations, m => m.Version == 22);

        var statements = MigrationRenderer.Render(migration.Sql, new ClickHouseStorageOptions { Cluster = "analytics", Database = "insights" });

        Assert.Contains(statements, s => s.Contains("CREATE TABLE IF NOT EXISTS events_by_hour_local ON CLUSTER analytics AS events_local", StringComparison.Ordinal)
                                         && s.Contains("ReplicatedReplacingMergeTree(", StringComparison.Ordinal));
        Assert.Contains(statements, s => s.EndsWith("EXCHANGE TABLES events_local AND events_by_hour_local ON CLUSTER analytics", StringComparison.Ordinal)
                                         && s.StartsWith("/* only if:", StringComparison.Ordinal) && s.Contains("name = 'events_local'", StringComparison.Ordinal));
        Assert.Contains(statements, s => s.Contains("INSERT INTO events SELECT * FROM cluster('analytics', 'insights', 'events_by_hour_local')", StringComparison.Ordinal));
        Assert.Contains("DROP TABLE IF EXISTS events_by_hour_local ON CLUSTER analytics SYNC", statements);
    }
}
