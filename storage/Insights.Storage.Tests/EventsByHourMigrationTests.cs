using System.Globalization;
using ClickHouse.Driver;
using Insights.DevStack.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.Storage.Tests;

/// <summary>
/// Migration 0022: <c>events</c> rebuilt with the hour in its sorting key, on a new database and on one that already
/// holds events (kept, every one), after a crash in the middle of it, and what it is for: a range inside a day reads
/// that range's granules, not the whole day's.
/// </summary>
public sealed class EventsByHourMigrationTests(DevStackFixture stack)
{
    private const string HourKey = "site_id, type, toStartOfHour(timestamp), event_id";
    private const string DayKey = "site_id, toDate(timestamp), type, event_id";
    private static readonly DateTime Morning = new(2026, 12, 5, 9, 0, 0, DateTimeKind.Utc);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_new_database_gets_events_sorted_by_hour_and_its_views_still_fed()
    {
        var (options, client) = Database();
        using var _ = client;

        await Migrator(options).MigrateAsync(Ct);

        Assert.Equal(HourKey, await SortingKeyAsync(client));
        Assert.Equal(0UL, await ScalarAsync(client, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'events_by_hour'"));
        Assert.Contains("non_replicated_deduplication_window = 1000", (string)(await ScalarAsync(client,
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'events'"))!, StringComparison.Ordinal);
        await InsertAsync(client, "new", 0, 3);
        Assert.Equal(3UL, await ScalarAsync(client, "SELECT uniqExact(visitor) FROM visitor_quarters WHERE site_id = 'new'"));
        Assert.Equal(1UL, await ScalarAsync(client, "SELECT count() FROM stats_quarter_state FINAL WHERE site_id = 'new'"));
    }

    [Fact]
    public async Task A_database_with_events_keeps_every_event_and_copies_of_one_still_collapse()
    {
        var (_, client, migrator) = await BeforeRebuildAsync("old", 500);
        using var _ = client;
        await InsertAsync(client, "old", 100, 1); // a replayed copy of event 100

        await migrator.MigrateAsync(Ct);

        Assert.Equal(HourKey, await SortingKeyAsync(client));
        Assert.Equal(500UL, await ScalarAsync(client, "SELECT count() FROM events FINAL WHERE site_id = 'old'"));
        Assert.Equal(500UL, await ScalarAsync(client, "SELECT uniqExact(event_id) FROM events WHERE site_id = 'old'"));
        await InsertAsync(client, "old", 200, 1); // and one after the rebuild
        Assert.Equal(500UL, await ScalarAsync(client, "SELECT count() FROM events FINAL WHERE site_id = 'old'"));
        Assert.Equal(500UL, await ScalarAsync(client, "SELECT uniqExact(visitor) FROM visitor_quarters WHERE site_id = 'old'"));
    }

    [Fact]
    public async Task A_start_up_that_stopped_after_the_swap_finishes_the_copy_the_next_time()
    {
        var (options, client, migrator) = await BeforeRebuildAsync("crash", 300);
        using var _ = client;
        var rebuild = MigrationRenderer.Render(Assert.Single(SchemaMigrator.Migrations, m => m.Version == 22).Sql, options);
        foreach (var statement in rebuild.Take(2))
        {
            await client.ExecuteNonQueryAsync(statement, cancellationToken: Ct); // created and swapped, then the process died
        }

        Assert.Equal(0UL, await ScalarAsync(client, "SELECT count() FROM events"));
        await InsertAsync(client, "crash", 1000, 5); // the new table already takes writes

        await migrator.MigrateAsync(Ct);

        Assert.Equal(HourKey, await SortingKeyAsync(client));
        Assert.Equal(305UL, await ScalarAsync(client, "SELECT count() FROM events FINAL WHERE site_id = 'crash'"));
        Assert.Equal(0UL, await ScalarAsync(client, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'events_by_hour'"));

        // And once more after the copy and the drop, before the record (the record is what a crash there loses).
        await client.ExecuteNonQueryAsync("DELETE FROM schema_migrations WHERE version = 22", cancellationToken: Ct);
        await migrator.MigrateAsync(Ct);
        Assert.Equal(HourKey, await SortingKeyAsync(client));
        Assert.Equal(305UL, await ScalarAsync(client, "SELECT count() FROM events FINAL WHERE site_id = 'crash'"));
    }

    [Fact]
    public async Task A_range_inside_a_day_reads_the_granules_of_its_hours_not_the_whole_day()
    {
        var (options, client) = Database();
        using var _ = client;
        await Migrator(options).MigrateAsync(Ct);
        // 6 hours of page views, 20,000 an hour (more than two granules each), in one part.
        await client.ExecuteNonQueryAsync($"""
            INSERT INTO events (event_id, site_id, type, timestamp, received_at, anonymous_id, path)
            SELECT toString(generateUUIDv4()), 'busy', 'pageview', toDateTime64('{Morning:yyyy-MM-dd HH:mm:ss}', 3, 'UTC') + toIntervalMillisecond(number * 180),
                   now64(3), concat('v', toString(number % 5000)), '/p'
            FROM numbers(120000)
            """, cancellationToken: Ct);

        var plan = (string)(await ScalarAsync(client, $"""
            SELECT arrayStringConcat(groupArray(explain), '\n') FROM (
              EXPLAIN indexes = 1 SELECT count() FROM events FINAL
              WHERE site_id = 'busy' AND type = 'pageview'
                AND timestamp >= '{Morning.AddHours(5).AddMinutes(40):yyyy-MM-dd HH:mm:ss}' AND timestamp < '{Morning.AddHours(6):yyyy-MM-dd HH:mm:ss}')
            """))!;

        var granules = System.Text.RegularExpressions.Regex.Match(plan, @"PrimaryKey[\s\S]*?Granules: (\d+)/(\d+)");
        Assert.True(granules.Success, plan);
        var (read, total) = (int.Parse(granules.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(granules.Groups[2].Value, CultureInfo.InvariantCulture));
        Assert.True(read * 4 <= total, $"read {read} of {total} granules for the last 20 minutes of 6 hours:\n{plan}");
        Assert.Equal(6666UL, await ScalarAsync(client, $"""
            SELECT count() FROM events FINAL WHERE site_id = 'busy' AND type = 'pageview'
              AND timestamp >= '{Morning.AddHours(5).AddMinutes(40):yyyy-MM-dd HH:mm:ss}' AND timestamp < '{Morning.AddHours(6):yyyy-MM-dd HH:mm:ss}'
            """));
    }

    private (ClickHouseStorageOptions Options, ClickHouseClient Client) Database()
    {
        var options = new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = $"byhour_{Guid.NewGuid():N}" };
        return (options, new ClickHouseClient(stack.ConnectionString(options.Database)));
    }

    /// <summary>A database as it was before 0022 (sorted by day), holding <paramref name="events"/> page views of <paramref name="site"/>.</summary>
    private async Task<(ClickHouseStorageOptions Options, ClickHouseClient Client, SchemaMigrator Migrator)> BeforeRebuildAsync(string site, int events)
    {
        var (options, client) = Database();
        var migrator = Migrator(options);
        await migrator.MigrateAsync(SchemaMigrator.Migrations.Where(m => m.Version < 22), Ct);
        Assert.Equal(DayKey, await SortingKeyAsync(client));
        await InsertAsync(client, site, 0, events);
        return (options, client, migrator);
    }

    private static Task<object?> ScalarAsync(ClickHouseClient client, string sql) => client.ExecuteScalarAsync(sql, cancellationToken: Ct);

    private static SchemaMigrator Migrator(ClickHouseStorageOptions options) => new(options, NullLogger<SchemaMigrator>.Instance);

    private static async Task<string> SortingKeyAsync(ClickHouseClient client) =>
        (string)(await ScalarAsync(client, "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'events'"))!;

    /// <summary>Page views <c>e{first}</c>… of visitors <c>v{i}</c>, one a minute from this morning 09:00.</summary>
    private static Task InsertAsync(ClickHouseClient client, string site, int first, int count) =>
        client.InsertBinaryAsync("events", ["event_id", "site_id", "type", "timestamp", "received_at", "anonymous_id", "path"],
            Enumerable.Range(first, count).Select(i => new object[] { $"e{i}", site, "pageview", Morning.AddMinutes(i % 600), Morning.AddMinutes(i % 600), $"v{i}", "/" }),
            cancellationToken: Ct);
}
