using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Insights.QueryApi.Live;
using Insights.QueryApi.Live.Alerts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Insights.QueryApi.Tests.Support;

/// <summary>
/// Query-API instances as alerts see them: each the real host (DI, hosted claimer and delivery worker, its own presence
/// board), all sharing one control-plane store — a SQLite file or a PostgreSQL database. Live events are applied to each
/// board directly, as each instance's consumer would apply the same topic message (every instance reads every partition).
/// </summary>
public sealed class AlertInstances : IAsyncDisposable
{
    public const string SiteId = "shop";
    public const string Secret = "iws_test-signing-secret-0001";
    private readonly List<QueryApiFactory> instances = [];

    private AlertInstances(Dictionary<string, string?> settings, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var instance = new QueryApiFactory(settings);
            _ = instance.Server; // start: migrate (the store's lock lets one instance do it), seed, run the alert workers
            instances.Add(instance);
        }
    }

    public IReadOnlyList<QueryApiFactory> All => instances;

    private readonly HashSet<int> following = [];

    public PresenceBoard Board(int instance) => instances[instance].Services.GetRequiredService<PresenceBoard>();

    public AlertOutbox Outbox => instances[0].Services.GetRequiredService<AlertOutbox>();

    /// <summary>
    /// <paramref name="count"/> instances of the store given by <paramref name="store"/> (settings of section ControlPlane),
    /// the site "shop" with acme.example as a target account and the given rules, and fast retries.
    /// </summary>
    public static AlertInstances Start(int count, Dictionary<string, string?> store, IReadOnlyList<AlertRule> rules,
        Dictionary<string, string?>? changes = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ClickHouse:ConnectionString"] = "Host=127.0.0.1;Port=9;Username=default;Password=",
            ["ClickHouse:Database"] = "unused",
            ["Live:Enabled"] = "false",
            ["Sites:0:Id"] = SiteId,
            ["Sites:0:ReadKeys:0"] = "shop-read-key-0001",
            ["Sites:0:TargetAccounts:0"] = "acme.example",
            ["Alerts:AllowPrivateAddresses"] = "true",
            ["Alerts:MaxAttempts"] = "3",
            ["Alerts:RetryDelay"] = "00:00:00.200",
            ["Alerts:Timeout"] = "00:00:05", // long enough that a loaded test machine does not turn an answered POST into a retry
            ["Alerts:PollInterval"] = "00:00:00.100",
        };
        for (var r = 0; r < rules.Count; r++)
        {
            var rule = rules[r];
            var key = $"Sites:0:Alerts:{r}";
            settings[$"{key}:Id"] = rule.Id;
            settings[$"{key}:Name"] = rule.Name;
            settings[$"{key}:Kind"] = rule.Kind;
            settings[$"{key}:MinScore"] = rule.MinScore?.ToString(System.Globalization.CultureInfo.InvariantCulture);
            for (var d = 0; d < rule.Destinations.Count; d++)
            {
                var destination = rule.Destinations[d];
                settings[$"{key}:Destinations:{d}:Id"] = destination.Id;
                settings[$"{key}:Destinations:{d}:Kind"] = destination.Kind;
                settings[$"{key}:Destinations:{d}:Url"] = destination.Url;
                settings[$"{key}:Destinations:{d}:Secret"] = destination.Secret;
            }
        }

        foreach (var (key, value) in store.Concat(changes ?? []))
        {
            settings[key] = value;
        }

        return new AlertInstances(settings, count);
    }

    public static Dictionary<string, string?> SqliteStore() => new() { [TestDataDirectories.Setting] = TestDataDirectories.New() };

    public static Dictionary<string, string?> PostgresStore(string connectionString) => new()
    {
        ["ControlPlane:Provider"] = "PostgreSql",
        ["ControlPlane:ConnectionString"] = connectionString,
    };

    public static AlertRule TargetRule(params AlertDestination[] destinations) =>
        new() { Id = "target", Name = "Target account on site", Kind = AlertKinds.TargetAccount, Destinations = [.. destinations] };

    public static AlertDestination Webhook(string url, string id = "hook") => new() { Id = id, Kind = AlertKinds.Webhook, Url = url, Secret = Secret };

    public static AlertDestination Slack(string url) => new() { Id = "slack", Kind = AlertKinds.Slack, Url = url };

    /// <summary>A page view of <paramref name="visitor"/> in visit <paramref name="session"/>, from Acme (a target account) unless said otherwise.</summary>
    public static LiveEvent View(string visitor, string session, string path, string eventId, LiveCompany? company = null)
    {
        var now = DateTimeOffset.UtcNow;
        return new LiveEvent
        {
            EventId = eventId, Type = EventTypes.Pageview, SiteId = SiteId, VisitorId = visitor, Timestamp = now, ReceivedAt = now,
            Visit = new LiveVisit(session, now.AddMinutes(-1), 1, "direct", null, null),
            Url = "https://shop.example" + path, Path = path, Title = "Préise — 価格",
            Company = company ?? new LiveCompany("acme-1", "Acme <Corp> & Co", "eu.acme.example"),
            Geo = new LiveGeo("DE", "Berlin", "Berlin"),
        };
    }

    /// <summary>Every instance applies the event, as every instance reads the same topic message.</summary>
    public void ApplyEverywhere(LiveEvent e)
    {
        for (var i = 0; i < instances.Count; i++)
        {
            // Each instance's stream of the site is open (as an agent's live page would have it), so its changes are kept.
            if (!following.Contains(i))
            {
                Board(i).Site(e.SiteId).Follow();
                following.Add(i);
            }

            Board(i).Apply(e);
        }
    }

    public async Task<List<AlertDelivery>> DeliveriesAsync()
    {
        var dbs = instances[0].Services.GetRequiredService<IDbContextFactory<ControlPlaneDb>>();
        await using var db = await dbs.CreateDbContextAsync(Http.Ct);
        return await db.AlertDeliveries.AsNoTracking().ToListAsync(Http.Ct);
    }

    /// <summary>Waits until <paramref name="done"/> holds for the deliveries in the store.</summary>
    public async Task<List<AlertDelivery>> WaitForDeliveriesAsync(Func<List<AlertDelivery>, bool> done, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var rows = await DeliveriesAsync();
            if (done(rows))
            {
                return rows;
            }

            Assert.True(DateTime.UtcNow < deadline, "deliveries not as expected: " + string.Join("; ",
                rows.Select(r => $"{r.DestinationId} {r.Status} attempts={r.Attempts} last={r.LastStatusCode} {r.LastError}")));
            await Task.Delay(50, Http.Ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in instances)
        {
            await instance.DisposeAsync();
        }
    }
}
