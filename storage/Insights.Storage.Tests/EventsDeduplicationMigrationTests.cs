using ClickHouse.Driver;
using Insights.DevStack.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.Storage.Tests;

/// <summary>Migration 0002: a batch inserted twice with the same token (a retry, a replay) is stored once.</summary>
public sealed class EventsDeduplicationMigrationTests(DevStackFixture stack)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_events_table_keeps_a_deduplication_window_on_a_single_node() =>
        Assert.Contains("non_replicated_deduplication_window = 1000", await EngineOfEventsAsync(await MigratedDatabaseAsync()), StringComparison.Ordinal);

    [Fact]
    public async Task An_insert_repeated_with_its_token_is_dropped_and_another_token_is_kept()
    {
        var database = await MigratedDatabaseAsync();
        using var client = new ClickHouseClient(stack.ConnectionString(database));

        await InsertAsync(client, "batch-a", "e1", "e2");
        await InsertAsync(client, "batch-a", "e1", "e2");
        await InsertAsync(client, "batch-b", "e3");

        Assert.Equal(3UL, await client.ExecuteScalarAsync("SELECT count() FROM events", cancellationToken: Ct));
    }

    [Fact]
    public void On_a_cluster_the_setting_is_applied_to_every_shard_local_table()
    {
        var migration = Assert.Single(SchemaMigrator.Migrations, m => m.Version == 2);

        var statement = Assert.Single(MigrationRenderer.Render(migration.Sql, new ClickHouseStorageOptions { Cluster = "analytics" }));

        Assert.Equal("ALTER TABLE events_local ON CLUSTER analytics MODIFY SETTING non_replicated_deduplication_window = 1000", statement);
    }

    private async Task<string> MigratedDatabaseAsync()
    {
        var options = new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = $"dedup_{Guid.NewGuid():N}" };
        await new SchemaMigrator(options, NullLogger<SchemaMigrator>.Instance).MigrateAsync(Ct);
        return options.Database;
    }

    private async Task<string> EngineOfEventsAsync(string database)
    {
        using var client = new ClickHouseClient(stack.ConnectionString(database));
        return (string)(await client.ExecuteScalarAsync(
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'events'", cancellationToken: Ct))!;
    }

    private static Task InsertAsync(ClickHouseClient client, string token, params string[] eventIds) =>
        client.InsertBinaryAsync("events", ["event_id", "site_id", "type", "timestamp", "received_at"],
            eventIds.Select(id => new object[] { id, "demo", "pageview", DateTime.UtcNow, DateTime.UtcNow }),
            new InsertOptions
            {
                CustomSettings = new Dictionary<string, object> { ["insert_deduplication_token"] = token },
            },
            Ct);
}
