using ClickHouse.Driver;
using Insights.DevStack.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.Storage.Tests;

/// <summary>Migrations 0003 (enrichment columns on events) and 0004 (sessions), on the dev stack's ClickHouse engine.</summary>
public sealed class SessionsMigrationTests(DevStackFixture stack)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DateTime Noon = new(2026, 11, 20, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task Events_gain_the_enrichment_columns_and_rows_written_without_them_read_as_not_a_bot_and_no_company()
    {
        var database = await MigratedDatabaseAsync();
        using var client = new ClickHouseClient(stack.ConnectionString(database));

        // An insert that knows only the columns of migration 0001, as a processor of the previous release writes.
        await client.InsertBinaryAsync("events", ["event_id", "site_id", "type", "timestamp", "received_at"],
            [["e1", "demo", "pageview", Noon, Noon]], cancellationToken: Ct);

        using var reader = await client.ExecuteReaderAsync(
            "SELECT bot_reason, session_id, country, device_type, network_kind, asn, company_id, company_confidence FROM events FINAL", cancellationToken: Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal(("", "", "", "", "", 0u, "", 0f),
            (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
             Convert.ToUInt32(reader.GetValue(5)), reader.GetString(6), Convert.ToSingle(reader.GetValue(7))));
    }

    [Fact]
    public async Task Migrating_again_changes_nothing()
    {
        var options = new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = $"sessions_{Guid.NewGuid():N}" };
        var migrator = new SchemaMigrator(options, NullLogger<SchemaMigrator>.Instance);
        await migrator.MigrateAsync(Ct);
        var before = await ColumnsAsync(options.Database, "events") + await ColumnsAsync(options.Database, "sessions");

        await migrator.MigrateAsync(Ct);

        Assert.Equal(before, await ColumnsAsync(options.Database, "events") + await ColumnsAsync(options.Database, "sessions"));
        Assert.Contains("company_id String", before, StringComparison.Ordinal);
        Assert.Contains("pages Array(String)", before, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_longer_version_of_a_session_replaces_the_shorter_one_and_a_replayed_row_counts_once()
    {
        var database = await MigratedDatabaseAsync();
        using var client = new ClickHouseClient(stack.ConnectionString(database));

        await InsertSessionAsync(client, "s1", opened: Noon, started: Noon, version: 1, pageViews: 1);
        await InsertSessionAsync(client, "s1", opened: Noon, started: Noon, version: 3, pageViews: 3);
        await InsertSessionAsync(client, "s1", opened: Noon, started: Noon, version: 3, pageViews: 3);
        await InsertSessionAsync(client, "s2", opened: Noon, started: Noon, version: 1, pageViews: 1);

        Assert.Equal(2UL, await client.ExecuteScalarAsync("SELECT count() FROM sessions FINAL", cancellationToken: Ct));
        Assert.Equal(4UL, await client.ExecuteScalarAsync("SELECT sum(page_views) FROM sessions FINAL", cancellationToken: Ct));
    }

    [Fact]
    public async Task A_session_whose_start_moves_into_the_previous_month_still_replaces_its_earlier_version()
    {
        // Opened by an event at 00:10 on the 1st; a late event from 23:50 the day before then moves its start back.
        // The partition follows opened_at, which never changes, so both versions meet in one partition.
        var database = await MigratedDatabaseAsync();
        using var client = new ClickHouseClient(stack.ConnectionString(database));
        var opened = new DateTime(2026, 12, 1, 0, 10, 0, DateTimeKind.Utc);

        await InsertSessionAsync(client, "s1", opened, started: opened, version: 1, pageViews: 1);
        await InsertSessionAsync(client, "s1", opened, started: opened.AddMinutes(-20), version: 2, pageViews: 2);

        using var reader = await client.ExecuteReaderAsync(
            "SELECT count(), any(started_at), any(page_views) FROM sessions FINAL SETTINGS do_not_merge_across_partitions_select_final = 1",
            cancellationToken: Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal(1UL, reader.GetValue(0));
        Assert.Equal(new DateTime(2026, 11, 30, 23, 50, 0), reader.GetDateTime(1));
        Assert.Equal(2u, reader.GetValue(2));
    }

    [Fact]
    public void On_a_cluster_the_columns_go_to_the_shard_tables_and_the_distributed_table_and_sessions_get_a_distributed_table()
    {
        var cluster = new ClickHouseStorageOptions { Cluster = "analytics", Database = "insights" };

        var enrichment = MigrationRenderer.Render(Assert.Single(SchemaMigrator.Migrations, m => m.Version == 3).Sql, cluster);
        var sessions = MigrationRenderer.Render(Assert.Single(SchemaMigrator.Migrations, m => m.Version == 4).Sql, cluster);

        Assert.StartsWith("ALTER TABLE events_local ON CLUSTER analytics", enrichment[0], StringComparison.Ordinal);
        Assert.StartsWith("ALTER TABLE events ON CLUSTER analytics", enrichment[1], StringComparison.Ordinal);
        Assert.All(enrichment.Skip(2), s => Assert.StartsWith("ALTER TABLE events_local ON CLUSTER analytics ADD INDEX", s, StringComparison.Ordinal));
        Assert.Contains("CREATE TABLE IF NOT EXISTS sessions_local ON CLUSTER analytics", sessions[0], StringComparison.Ordinal);
        Assert.Contains("ReplicatedReplacingMergeTree(", sessions[0], StringComparison.Ordinal);
        Assert.Equal(
            "CREATE TABLE IF NOT EXISTS sessions ON CLUSTER analytics AS sessions_local " +
            "ENGINE = Distributed(analytics, insights, sessions_local, cityHash64(site_id, anonymous_id))",
            sessions[1]);
    }

    private async Task<string> MigratedDatabaseAsync()
    {
        var options = new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = $"sessions_{Guid.NewGuid():N}" };
        await new SchemaMigrator(options, NullLogger<SchemaMigrator>.Instance).MigrateAsync(Ct);
        return options.Database;
    }

    private async Task<string> ColumnsAsync(string database, string table)
    {
        using var client = new ClickHouseClient(stack.ConnectionString(database));
        var parameters = new ClickHouse.Driver.ADO.Parameters.ClickHouseParameterCollection();
        ClickHouse.Driver.Utility.ClickHouseParameterCollectionExtensions.AddParameter(parameters, "table", table);
        return (string)(await client.ExecuteScalarAsync(
            "SELECT arrayStringConcat(groupArray(concat(name, ' ', type)), ', ') FROM (SELECT name, type FROM system.columns " +
            "WHERE database = currentDatabase() AND table = {table:String} ORDER BY position)", parameters, cancellationToken: Ct))!;
    }

    private static Task InsertSessionAsync(ClickHouseClient client, string id, DateTime opened, DateTime started, ulong version, uint pageViews) =>
        client.InsertBinaryAsync("sessions",
            ["session_id", "site_id", "anonymous_id", "opened_at", "started_at", "ended_at", "page_views", "events", "pages", "version"],
            [[id, "demo", "v1", opened, started, opened.AddMinutes(5), pageViews, pageViews, new[] { "/", "/pricing" }, version]],
            // A replay that slipped past the insert deduplication window: the table alone must collapse it.
            new InsertOptions { CustomSettings = new Dictionary<string, object> { ["insert_deduplicate"] = 0 } },
            Ct);
}
