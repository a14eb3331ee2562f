using Insights.DevStack.Testing;

namespace Insights.QueryApi.Tests.Support;

/// <summary>
/// One migrated database with a few events and one API over it, shared by the tests of a class that only read:
/// authorization and hostile input never write, so they need no database each.
/// </summary>
public sealed class SeededApiFixture(DevStackFixture stack) : IAsyncLifetime
{
    public const string Range = "?from=2026-05-01&to=2026-05-02";

    public EventsDatabase Database { get; private set; } = null!;

    public QueryApiFactory Api { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Database = await EventsDatabase.CreateMigratedAsync(stack);
        var at = new DateTime(2026, 5, 1, 10, 0, 0, DateTimeKind.Utc);
        await Database.InsertAsync(
            new TestEvent("s1", TestSites.Shop, at, "v1"),
            new TestEvent("s2", TestSites.Shop, at.AddMinutes(1), "v2", "/p"),
            new TestEvent("o1", TestSites.Other, at, "v1", Host: "other.example"));
        Api = Database.StartApi();
        Client = Api.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Api.DisposeAsync();
        Database.Dispose();
    }
}
