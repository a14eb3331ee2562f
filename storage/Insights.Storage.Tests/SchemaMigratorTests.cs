using ClickHouse.Driver;
using Insights.DevStack.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.Storage.Tests;

public sealed class SchemaMigratorTests(DevStackFixture stack)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Migrating_twice_applies_each_migration_once_and_the_schema_accepts_events()
    {
        var options = new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = $"m_{Guid.NewGuid():N}" };
        var migrator = new SchemaMigrator(options, NullLogger<SchemaMigrator>.Instance);

        await migrator.MigrateAsync(Ct);
        await migrator.MigrateAsync(Ct);

        using var client = new ClickHouseClient(stack.ConnectionString(options.Database));
        Assert.Equal((ulong)SchemaMigrator.Migrations.Count, await client.ExecuteScalarAsync("SELECT count() FROM schema_migrations FINAL", cancellationToken: Ct));
        var engine = await client.ExecuteScalarAsync(
            "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = 'events'", cancellationToken: Ct);
        Assert.Equal("ReplacingMergeTree", engine);
    }

    [Fact]
    public async Task Concurrent_start_ups_leave_one_consistent_schema()
    {
        var options = new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = $"m_{Guid.NewGuid():N}" };

        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => new SchemaMigrator(options, NullLogger<SchemaMigrator>.Instance).MigrateAsync(Ct)));

        using var client = new ClickHouseClient(stack.ConnectionString(options.Database));
        Assert.Equal((ulong)SchemaMigrator.Migrations.Count,
            await client.ExecuteScalarAsync("SELECT uniqExact(version) FROM schema_migrations", cancellationToken: Ct));
    }

    [Fact]
    public async Task A_migration_edited_after_it_was_applied_stops_the_start_up()
    {
        var options = new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = $"m_{Guid.NewGuid():N}" };
        await new SchemaMigrator(options, NullLogger<SchemaMigrator>.Instance).MigrateAsync(Ct);
        using var client = new ClickHouseClient(stack.ConnectionString(options.Database));
        await client.InsertBinaryAsync("schema_migrations", ["version", "name", "checksum", "applied_at"],
            [[1u, "0001_events", "tampered", DateTime.UtcNow.AddDays(1)]], cancellationToken: Ct);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => new SchemaMigrator(options, NullLogger<SchemaMigrator>.Instance).MigrateAsync(Ct));

        Assert.Contains("0001_events was changed after it was applied", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_migrator_waits_while_another_process_holds_the_lock_and_goes_on_when_it_is_released()
    {
        var (options, migrator, client) = await WithOneMigrationPendingAsync();
        using var _ = client;

        var other = await MigrationLock.AcquireAsync(stack.ConnectionString(options.Database), options, NullLogger.Instance, Ct);
        var waiting = migrator.MigrateAsync(Ct);
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(0UL, await client.ExecuteScalarAsync("SELECT count() FROM schema_migrations WHERE version = 22", cancellationToken: Ct));

        await other.DisposeAsync();
        await waiting.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.Equal(1UL, await client.ExecuteScalarAsync("SELECT count() FROM schema_migrations WHERE version = 22", cancellationToken: Ct));
        Assert.Equal(0UL, await client.ExecuteScalarAsync($"SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = '{MigrationLock.Table}'", cancellationToken: Ct));
    }

    [Fact]
    public async Task A_lock_left_by_a_process_that_died_is_broken_once_it_is_a_minute_old()
    {
        var (options, migrator, client) = await WithOneMigrationPendingAsync();
        using var _ = client;
        var lastBeat = DateTimeOffset.UtcNow - MigrationLock.StaleAfter - TimeSpan.FromSeconds(5);
        await client.ExecuteNonQueryAsync(
            $"CREATE TABLE {MigrationLock.Table} (holder String) ENGINE = Memory COMMENT 'dead-host/4242/x|{lastBeat.ToUnixTimeMilliseconds()}'", cancellationToken: Ct);

        await migrator.MigrateAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.Equal(1UL, await client.ExecuteScalarAsync("SELECT count() FROM schema_migrations WHERE version = 22", cancellationToken: Ct));
    }

    /// <summary>A new database migrated up to 0021: 0022 is pending.</summary>
    private async Task<(ClickHouseStorageOptions Options, SchemaMigrator Migrator, ClickHouseClient Client)> WithOneMigrationPendingAsync()
    {
        var options = new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = $"m_{Guid.NewGuid():N}" };
        var migrator = new SchemaMigrator(options, NullLogger<SchemaMigrator>.Instance);
        await migrator.MigrateAsync(SchemaMigrator.Migrations.Where(m => m.Version < 22), Ct);
        return (options, migrator, new ClickHouseClient(stack.ConnectionString(options.Database)));
    }
}
