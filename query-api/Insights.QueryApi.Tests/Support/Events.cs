using ClickHouse.Driver;
using Insights.DevStack.Testing;
using Insights.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.QueryApi.Tests.Support;

/// <summary>One hand-made row of the events table (the columns the reports read; the rest take their defaults).</summary>
public sealed record TestEvent(
    string EventId, string Site, DateTime Timestamp, string Visitor, string Path = "/",
    string ReferrerHost = "", string Type = "pageview", string Host = "shop.example", string Session = "")
{
    public object[] Row() =>
    [
        EventId, Site, Type, Type == "track" ? "signup" : "", Timestamp, Timestamp, Visitor,
        $"https://{Host}{Path}", Path, ReferrerHost.Length == 0 ? "" : $"https://{ReferrerHost}/", ReferrerHost, Session,
    ];
}

/// <summary>A fresh, migrated database per test and a way to put events into it.</summary>
public sealed class EventsDatabase(DevStackFixture stack, string name) : IDisposable
{
    // Explicit types, as the processors insert: the driver then skips asking the server for them.
    private static readonly (string Name, string Type)[] Schema =
    [
        ("event_id", "String"),
        ("site_id", "LowCardinality(String)"),
        ("type", "LowCardinality(String)"),
        ("name", "String"),
        ("timestamp", "DateTime64(3, 'UTC')"),
        ("received_at", "DateTime64(3, 'UTC')"),
        ("anonymous_id", "String"),
        ("url", "String"),
        ("path", "String"),
        ("referrer", "String"),
        ("referrer_host", "String"),
        ("session_id", "String"),
    ];

    private static readonly string[] Columns = [.. Schema.Select(c => c.Name)];

    private static readonly Dictionary<string, string> ColumnTypes = Schema.ToDictionary(c => c.Name, c => c.Type);

    private readonly ClickHouseClient client = new(stack.ConnectionString(name));

    public string Name { get; } = name;

    public string ConnectionString => stack.ConnectionString();

    /// <summary>A database with the processors' schema applied, exactly as they apply it.</summary>
    public static async Task<EventsDatabase> CreateMigratedAsync(DevStackFixture stack)
    {
        var name = await CreateEmptyAsync(stack);
        var options = new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = name };
        await new SchemaMigrator(options, NullLogger<SchemaMigrator>.Instance).MigrateAsync(TestContext.Current.CancellationToken);
        return new EventsDatabase(stack, name);
    }

    public static Task<string> CreateEmptyAsync(DevStackFixture stack) => stack.CreateDatabaseAsync("queryapi");

    /// <summary>One INSERT, so one part: rows inserted by separate calls stay unmerged duplicates until a merge.</summary>
    public Task InsertAsync(params TestEvent[] events) =>
        client.InsertBinaryAsync("events", Columns, events.Select(e => e.Row()), new InsertOptions { ColumnTypes = ColumnTypes },
            TestContext.Current.CancellationToken);

    public async Task<ulong> RawRowCountAsync(string? eventId = null)
    {
        var parameters = new ClickHouse.Driver.ADO.Parameters.ClickHouseParameterCollection();
        ClickHouse.Driver.Utility.ClickHouseParameterCollectionExtensions.AddParameter(parameters, "id", eventId ?? "");
        return (ulong)(await client.ExecuteScalarAsync(
            "SELECT count() FROM events WHERE {id:String} = '' OR event_id = {id:String}", parameters,
            cancellationToken: TestContext.Current.CancellationToken))!;
    }

    /// <summary>One round of the processors' roll-up of the stats report's quarter hours, with nothing left to settle for.</summary>
    public Task<int> RollQuartersAsync() =>
        StatsQuarters.RollAsync(client, Name, TimeSpan.Zero, 10_000, TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

    /// <summary>Rows of <c>stats_quarters</c> stored for these quarter hours, every version.</summary>
    public async Task<ulong> QuarterRowsAsync(DateTime[] quarters)
    {
        var parameters = new ClickHouse.Driver.ADO.Parameters.ClickHouseParameterCollection();
        ClickHouse.Driver.Utility.ClickHouseParameterCollectionExtensions.AddParameter(parameters, "quarters", quarters);
        return (ulong)(await client.ExecuteScalarAsync("SELECT count() FROM stats_quarters WHERE quarter IN {quarters:Array(DateTime('UTC'))}", parameters,
            cancellationToken: TestContext.Current.CancellationToken))!;
    }

    public Dictionary<string, string?> Settings() => TestSites.Settings(ConnectionString, Name);

    public QueryApiFactory StartApi() => new(Settings());

    public void Dispose() => client.Dispose();
}
