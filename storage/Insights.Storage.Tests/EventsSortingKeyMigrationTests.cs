using System.Globalization;
using ClickHouse.Driver;
using Insights.DevStack.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.Storage.Tests;

/// <summary>
/// Migrations 0022 and 0023: <c>events</c> rebuilt with the hour in its sorting key, then with the time before the event
/// id, on a new database and on ones that already hold events (kept, every one), after a crash in the middle of either,
/// and what they are for: a range inside a day reads that range's hours, and a range inside an hour its minutes.
/// </summary>
public sealed class EventsSortingKeyMigrationTests(DevStackFixture stack)
{
    private const string TimeKey = "site_id, type, timestamp, event_id";
    private const string HourKey = "site_id, type, toStartOfHour(timestamp), event_id";
    private const string DayKey = "site_id, toDate(timestamp), type, event_id";
    private static readonly DateTime Morning = new(2026, 12, 5, 9, 0, 0, DateTimeKind.Utc);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_new_database_gets_events_sorted_by_time_and_its_views_still_fed()
    {
        var (options, client) = Database();
        using var _ = client;

        await Migrator(options).MigrateAsync(Ct);

        Assert.Equal(TimeKey, await SortingKeyAsync(client));
        Assert.Equal(0UL, await ScalarAsync(client, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name IN ('events_by_hour', 'events_by_time')"));
        Assert.Contains("non_replicated_deduplication_window = 1000", (string)(await ScalarAsync(client,
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'events'"))!, StringComparison.Ordinal);
        await InsertAsync(client, "new", 0, 3);
        Assert.Equal(3UL, await ScalarAsync(client, "SELECT uniqExact(visitor) FROM visitor_quarters WHERE site_id = 'new'"));
        Assert.Equal(1UL, await ScalarAsync(client, "SELECT count() FROM stats_quarter_state FINAL WHERE site_id = 'new'"));
    }

    [Theory]
    [InlineData(22, DayKey)]
    [InlineData(23, HourKey)]
    public async Task A_database_with_events_keeps_every_event_and_copies_of_one_still_collapse(int rebuild, string before)
    {
        var (_, client, migrator) = await BeforeRebuildAsync(rebuild, before, "old", 500);
        using var _ = client;
        await InsertAsync(client, "old", 100, 1); // a replayed copy of event 100

        await migrator.MigrateAsync(Ct);

        Assert.Equal(TimeKey, await SortingKeyAsync(client));
        Assert.Equal(500UL, await ScalarAsync(client, "SELECT count() FROM events FINAL WHERE site_id = 'old'"));
        Assert.Equal(500UL, await ScalarAsync(client, "SELECT uniqExact(event_id) FROM events WHERE site_id = 'old'"));
        await InsertAsync(client, "old", 200, 1); // and one after the rebuild
        Assert.Equal(500UL, await ScalarAsync(client, "SELECT count() FROM events FINAL WHERE site_id = 'old'"));
        Assert.Equal(500UL, await ScalarAsync(client, "SELECT uniqExact(visitor) FROM visitor_quarters WHERE site_id = 'old'"));
    }

    [Theory]
    [InlineData(22, DayKey, "events_by_hour")]
    [InlineData(23, HourKey, "events_by_time")]
    public async Task A_start_up_that_stopped_after_the_swap_finishes_the_copy_the_next_time(int rebuild, string before, string rebuilt)
    {
        var (options, client, migrator) = await BeforeRebuildAsync(rebuild, before, "crash", 300);
        using var _ = client;
        var statements = MigrationRenderer.Render(Assert.Single(SchemaMigrator.Migrations, m => m.Version == rebuild).Sql, options);
        foreach (var statement in statements.Take(2))
        {
            await client.ExecuteNonQueryAsync(statement, cancellationToken: Ct); // created and swapped, then the process died
        }

        Assert.Equal(0UL, await ScalarAsync(client, "SELECT count() FROM events"));
        await InsertAsync(client, "crash", 1000, 5); // the new table already takes writes

        await migrator.MigrateAsync(Ct);

        Assert.Equal(TimeKey, await SortingKeyAsync(client));
        Assert.Equal(305UL, await ScalarAsync(client, "SELECT count() FROM events FINAL WHERE site_id = 'crash'"));
        Assert.Equal(0UL, await ScalarAsync(client, $"SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = '{rebuilt}'"));

        // And once more after the copy and the drop, before the record (the record is what a crash there loses; no later
        // migration ran then either).
        await client.ExecuteNonQueryAsync($"DELETE FROM schema_migrations WHERE version >= {rebuild}", cancellationToken: Ct);
        await migrator.MigrateAsync(Ct);
        Assert.Equal(TimeKey, await SortingKeyAsync(client));
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

        var (read, total, plan) = await GranulesAsync(client, $"""
            SELECT count() FROM events FINAL
            WHERE site_id = 'busy' AND type = 'pageview'
              AND timestamp >= '{Morning.AddHours(5).AddMinutes(40):yyyy-MM-dd HH:mm:ss}' AND timestamp < '{Morning.AddHours(6):yyyy-MM-dd HH:mm:ss}'
            """);

        Assert.True(read * 4 <= total, $"read {read} of {total} granules for the last 20 minutes of 6 hours:\n{plan}");
        Assert.Equal(6666UL, await ScalarAsync(client, $"""
            SELECT count() FROM events FINAL WHERE site_id = 'busy' AND type = 'pageview'
              AND timestamp >= '{Morning.AddHours(5).AddMinutes(40):yyyy-MM-dd HH:mm:ss}' AND timestamp < '{Morning.AddHours(6):yyyy-MM-dd HH:mm:ss}'
            """));
    }

    [Fact]
    public async Task A_range_inside_an_hour_reads_the_granules_of_its_minutes_not_the_whole_hour()
    {
        var (options, client) = Database();
        using var _ = client;
        await Migrator(options).MigrateAsync(Ct);
        // An hour of page views, one every 30 ms (about 15 granules), in one part; event ids in no order of time.
        await client.ExecuteNonQueryAsync($"""
            INSERT INTO events (event_id, site_id, type, timestamp, received_at, anonymous_id, path)
            SELECT toString(generateUUIDv4()), 'busy', 'pageview', toDateTime64('{Morning:yyyy-MM-dd HH:mm:ss}', 3, 'UTC') + toIntervalMillisecond(number * 30),
                   now64(3), concat('v', toString(number % 5000)), '/p'
            FROM numbers(120000)
            """, cancellationToken: Ct);
        var (from, to) = (Morning.AddMinutes(50), Morning.AddHours(1));

        var (read, total, plan) = await GranulesAsync(client, $"""
            SELECT count() FROM events FINAL
            WHERE site_id = 'busy' AND type = 'pageview' AND timestamp >= '{from:yyyy-MM-dd HH:mm:ss}' AND timestamp < '{to:yyyy-MM-dd HH:mm:ss}'
            """);

        Assert.True(read * 4 <= total, $"read {read} of {total} granules for the last 10 minutes of the hour:\n{plan}");
        Assert.Equal(20000UL, await ScalarAsync(client, $"""
            SELECT count() FROM events FINAL WHERE site_id = 'busy' AND type = 'pageview'
              AND timestamp >= '{from:yyyy-MM-dd HH:mm:ss}' AND timestamp < '{to:yyyy-MM-dd HH:mm:ss}'
            """));
    }

    /// <summary>Granules the primary key selects for <paramref name="query"/>, of all, and the plan that says so.</summary>
    private static async Task<(int Read, int Total, string Plan)> GranulesAsync(ClickHouseClient client, string query)
    {
        var plan = (string)(await ScalarAsync(client, $"SELECT arrayStringConcat(groupArray(explain), '\\n') FROM (EXPLAIN indexes = 1 {query})"))!;
        var granules = System.Text.RegularExpressions.Regex.Match(plan, @"PrimaryKey[\s\S]*?Granules: (\d+)/(\d+)");
        Assert.True(granules.Success, plan);
        return (int.Parse(granules.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(granules.Groups[2].Value, CultureInfo.InvariantCulture), plan);
    }

    private (ClickHouseStorageOptions Options, ClickHouseClient Client) Database()
    {
        var options = new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = $"byhour_{Guid.NewGuid():N}" };
        return (options, new ClickHouseClient(stack.ConnectionString(options.Database)));
    }

    /// <summary>A database as it was before migration <paramref name="rebuild"/> (sorted by <paramref name="key"/>), holding
    /// <paramref name="events"/> page views of <paramref name="site"/>.</summary>
    private async Task<(ClickHouseStorageOptions Options, ClickHouseClient Client, SchemaMigrator Migrator)> BeforeRebuildAsync(
        int rebuild, string key, string site, int events)
    {
        var (options, client) = Database();
        var migrator = Migrator(options);
        await migrator.MigrateAsync(SchemaMigrator.Migrations.Where(m => m.Version < rebuild), Ct);
        Assert.Equal(key, await SortingKeyAsync(client));
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
