using System.Diagnostics;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Insights.ControlPlane.Tests.Support;
using Insights.Contracts;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane.Tests;

/// <summary>The store's behaviour, the same on every provider: each derived class runs all of it on one.</summary>
public abstract class StoreTests(IStoreProvider stores, ITestOutputHelper output)
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly TimeSpan RevocationPromise = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Migrations_on_an_empty_database_create_the_schema_and_the_first_catalog_version()
    {
        var factory = ControlPlaneDbFactory.For(stores.Provider, await stores.NewDatabaseAsync());
        await using var db = await factory.CreateDbContextAsync(Ct);
        Assert.NotEmpty(await db.Database.GetPendingMigrationsAsync(Ct));

        await ControlPlaneSchema.EnsureCurrentAsync(factory, apply: true, NullLogger.Instance, Ct);

        Assert.Empty(await db.Database.GetPendingMigrationsAsync(Ct));
        Assert.Equal(1, await CatalogVersion.ReadAsync(db, Ct));
        Assert.Empty(await db.Sites.ToListAsync(Ct));
        Assert.Empty(await db.People.ToListAsync(Ct));
    }

    [Fact]
    public async Task Instances_sharing_the_store_share_one_data_protection_key_ring_across_restarts()
    {
        var connectionString = await stores.NewDatabaseAsync();
        await ControlPlaneSchema.EnsureCurrentAsync(ControlPlaneDbFactory.For(stores.Provider, connectionString), apply: true, NullLogger.Instance, Ct);

        // Each "instance" has its own service provider and connection pool, as separate processes would.
        static ServiceProvider Instance(ControlPlaneProvider provider, string connectionString)
        {
            var services = new ServiceCollection();
            services.AddSingleton<IDbContextFactory<ControlPlaneDb>>(ControlPlaneDbFactory.For(provider, connectionString));
            services.AddDataProtection().PersistKeysToControlPlane("Insights.Test");
            return services.BuildServiceProvider();
        }

        string sealedCookie;
        using (var first = Instance(stores.Provider, connectionString))
        {
            sealedCookie = first.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie").Protect("person-42");
        }

        await using (var db = await ControlPlaneDbFactory.For(stores.Provider, connectionString).CreateDbContextAsync(Ct))
        {
            var key = Assert.Single(await db.DataProtectionKeys.ToListAsync(Ct));
            Assert.StartsWith("key-", key.FriendlyName, StringComparison.Ordinal);
        }

        // Another instance, and the first one restarted: both open what the first sealed, and make no key of their own.
        using var second = Instance(stores.Provider, connectionString);
        Assert.Equal("person-42", second.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie").Unprotect(sealedCookie));
        using var restarted = Instance(stores.Provider, connectionString);
        Assert.Equal("person-42", restarted.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie").Unprotect(sealedCookie));

        // Another application name is another key ring's purpose: it cannot open the cookie.
        var stranger = new ServiceCollection();
        stranger.AddSingleton<IDbContextFactory<ControlPlaneDb>>(ControlPlaneDbFactory.For(stores.Provider, connectionString));
        stranger.AddDataProtection().PersistKeysToControlPlane("Another.App");
        using var strangerProvider = stranger.BuildServiceProvider();
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() =>
            strangerProvider.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie").Unprotect(sealedCookie));

        await using (var db = await ControlPlaneDbFactory.For(stores.Provider, connectionString).CreateDbContextAsync(Ct))
        {
            Assert.Equal(1, await db.DataProtectionKeys.CountAsync(Ct));
        }
    }

    [Fact]
    public async Task Instances_migrating_at_once_apply_each_migration_once()
    {
        var connectionString = await stores.NewDatabaseAsync();
        // Separate factories: separate connection pools, as separate services would have.
        var factories = Enumerable.Range(0, 4).Select(_ => ControlPlaneDbFactory.For(stores.Provider, connectionString)).ToList();

        await Task.WhenAll(factories.Select(f => Task.Run(() => ControlPlaneSchema.EnsureCurrentAsync(f, apply: true, NullLogger.Instance, Ct))));

        await using var db = await factories[0].CreateDbContextAsync(Ct);
        Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync(Ct));
        Assert.Equal(1, await CatalogVersion.ReadAsync(db, Ct));
    }

    [Fact]
    public async Task Without_ApplyMigrations_a_service_waits_until_another_has_migrated()
    {
        var factory = ControlPlaneDbFactory.For(stores.Provider, await stores.NewDatabaseAsync());
        var logger = new ListLogger<StoreTests>();
        var waiting = ControlPlaneSchema.EnsureCurrentAsync(factory, apply: false, logger, Ct);

        await Task.Delay(500, Ct);
        Assert.False(waiting.IsCompleted);
        Assert.Contains(logger.Entries, e => e.EventId == 7101 && e.Message.Contains("_Initial", StringComparison.Ordinal));

        await ControlPlaneSchema.EnsureCurrentAsync(factory, apply: true, NullLogger.Instance, Ct);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public async Task Seeding_is_idempotent_reapplies_settings_and_leaves_a_revoked_key_revoked()
    {
        var factory = await MigratedAsync();
        var demo = DemoSite();

        Assert.True(await SeedAsync(factory, demo));
        var version = await VersionAsync(factory);
        Assert.False(await SeedAsync(factory, demo));
        Assert.Equal(version, await VersionAsync(factory));

        await using (var db = await factory.CreateDbContextAsync(Ct))
        {
            var site = await db.Sites.SingleAsync(Ct);
            Assert.True(site.Seeded);
            Assert.Equal("Demo shop", (await db.Organisations.SingleAsync(Ct)).Name);
            Assert.Null((await db.Organisations.SingleAsync(Ct)).PartnerId);
            Assert.Equal(3, await db.SiteKeys.CountAsync(Ct));
            Assert.DoesNotContain("demo-write-key", site.SettingsJson, StringComparison.Ordinal); // keys are rows, by hash only
            Assert.DoesNotContain("demo-write-key", string.Concat(await db.SiteKeys.Select(k => k.Hint).ToListAsync(Ct)), StringComparison.Ordinal);
        }

        var admin = new SiteAdmin(factory, TimeProvider.System);
        var writeKey = await KeyIdAsync(factory, "demo-write-key");
        await admin.RevokeKeyAsync(writeKey, Actor.Cli("test"), Ct);

        demo.TimeZone = "Europe/Berlin";
        demo.Goals = [new SiteGoal { Id = "thanks", Name = "Thanks", Kind = "page", UrlPattern = "/thank-you" }];
        Assert.True(await SeedAsync(factory, demo));

        var settings = await admin.GetSettingsAsync("demo", Ct);
        Assert.Equal("Europe/Berlin", settings!.TimeZone);
        Assert.Equal("thanks", Assert.Single(settings.Goals).Id);
        await using (var db = await factory.CreateDbContextAsync(Ct))
        {
            Assert.Equal(3, await db.SiteKeys.CountAsync(Ct));
            Assert.NotNull((await db.SiteKeys.SingleAsync(k => k.Id == writeKey, Ct)).RevokedAt);
        }
    }

    [Fact]
    public async Task Seeding_refuses_a_configured_key_that_belongs_to_another_site_naming_the_setting()
    {
        var factory = await MigratedAsync();
        await SeedAsync(factory, DemoSite());
        var copy = new SiteOptions { Id = "copy", WriteKeys = ["demo-write-key"] };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SeedAsync(factory, copy));

        Assert.Contains("Sites:0", error.Message, StringComparison.Ordinal);
        Assert.Contains("'demo'", error.Message, StringComparison.Ordinal);
        await using var db = await factory.CreateDbContextAsync(Ct);
        Assert.False(await db.Sites.AnyAsync(s => s.Id == "copy", Ct)); // nothing half-written
    }

    [Fact]
    public async Task A_revoked_key_is_refused_within_five_seconds_and_an_issued_key_works()
    {
        var factory = await MigratedAsync();
        await SeedAsync(factory, DemoSite());
        var (catalog, directory) = await StartDirectoryAsync(factory);
        try
        {
            Assert.Equal("demo", catalog.FindByKey("demo-write-key")?.Site.Id);
            var admin = new SiteAdmin(factory, TimeProvider.System);
            var issued = await admin.IssueKeyAsync("demo", SiteKeyKind.Server, "shop back end", Actor.Cli("test"), Ct);
            Assert.StartsWith("ik_srv_", issued.Key, StringComparison.Ordinal);
            Assert.Equal(7 + 43, issued.Key.Length);
            await WaitUntilAsync(() => catalog.FindByKey(issued.Key) is { Kind: KeyKind.Server }, RevocationPromise);

            var clock = Stopwatch.StartNew();
            await admin.RevokeKeyAsync(issued.Record.Id, Actor.Cli("test"), Ct);
            await WaitUntilAsync(() => catalog.FindByKey(issued.Key) is null, RevocationPromise);
            output.WriteLine($"{stores.Provider}: revoked key refused by the live catalog after {clock.ElapsedMilliseconds} ms (refresh interval 1 s)");
            Assert.True(clock.Elapsed < RevocationPromise, $"took {clock.Elapsed}");
            Assert.Equal("demo", catalog.FindByKey("demo-write-key")?.Site.Id); // the others keep working

            await using var db = await factory.CreateDbContextAsync(Ct);
            var audit = await db.AuditLog.Where(a => a.ScopeId == "demo").Select(a => a.Action).ToListAsync(Ct);
            Assert.Contains("key.issued", audit);
            Assert.Contains("key.revoked", audit);
            Assert.DoesNotContain(issued.Key, string.Concat(await db.AuditLog.Select(a => a.DetailJson).ToListAsync(Ct)), StringComparison.Ordinal);
        }
        finally
        {
            await directory.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task A_rotated_key_keeps_working_for_its_grace_and_then_stops()
    {
        var factory = await MigratedAsync();
        await SeedAsync(factory, DemoSite());
        var (catalog, directory) = await StartDirectoryAsync(factory);
        try
        {
            var admin = new SiteAdmin(factory, TimeProvider.System);
            var rotated = await admin.RotateKeyAsync(await KeyIdAsync(factory, "demo-read-key"), TimeSpan.FromSeconds(3), Actor.Cli("test"), Ct);
            var clock = Stopwatch.StartNew();
            Assert.StartsWith("ik_read_", rotated.Key, StringComparison.Ordinal);
            await WaitUntilAsync(() => catalog.FindByKey(rotated.Key) is { Kind: KeyKind.Read }, RevocationPromise);
            Assert.NotNull(catalog.FindByKey("demo-read-key")); // both work during the grace

            await WaitUntilAsync(() => catalog.FindByKey("demo-read-key") is null, TimeSpan.FromSeconds(3) + RevocationPromise);
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.5), $"the old key stopped after {clock.Elapsed}, before its grace");
            Assert.NotNull(catalog.FindByKey(rotated.Key));

            // Without a grace the old key stops at once.
            var again = await admin.RotateKeyAsync(rotated.Record.Id, null, Actor.Cli("test"), Ct);
            await WaitUntilAsync(() => catalog.FindByKey(rotated.Key) is null && catalog.FindByKey(again.Key) is not null, RevocationPromise);
            await Assert.ThrowsAsync<ControlPlaneException>(() => admin.RevokeKeyAsync(rotated.Record.Id, Actor.Cli("test"), Ct));
        }
        finally
        {
            await directory.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task A_site_whose_settings_break_keeps_its_last_good_settings_and_the_others_keep_updating()
    {
        var factory = await MigratedAsync();
        await SeedAsync(factory, DemoSite());
        var admin = new SiteAdmin(factory, TimeProvider.System);
        var organisation = await admin.CreateOrganisationAsync("Other", null, Actor.Cli("test"), Ct);
        await admin.CreateSiteAsync(organisation.Id, "other", "Other", null, Actor.Cli("test"), Ct);
        var logger = new ListLogger<SiteDirectory>();
        var (catalog, directory) = await StartDirectoryAsync(factory, logger);
        try
        {
            await using (var db = await factory.CreateDbContextAsync(Ct))
            {
                await db.Sites.Where(s => s.Id == "demo").ExecuteUpdateAsync(s => s.SetProperty(x => x.SettingsJson, "{\"timeZone\": [broken"), Ct);
            }

            var other = await admin.GetSettingsAsync("other", Ct);
            other!.TimeZone = "Asia/Tokyo";
            await admin.UpdateSettingsAsync("other", other, Actor.Cli("test"), Ct);

            await WaitUntilAsync(() => catalog.FindById("other")?.TimeZone == "Asia/Tokyo", RevocationPromise);
            Assert.Equal("demo", catalog.FindByKey("demo-write-key")?.Site.Id);
            Assert.Equal("UTC", catalog.FindById("demo")?.TimeZone);
            Assert.Contains(logger.Entries, e => e.EventId == 7104 && e.Message.Contains("demo", StringComparison.Ordinal));

            // A directory that never saw the site's good settings does not serve it, and still serves the rest.
            var (fresh, second) = await StartDirectoryAsync(factory);
            await second.StopAsync(Ct);
            Assert.Null(fresh.FindById("demo"));
            Assert.Null(fresh.FindByKey("demo-write-key"));
            Assert.Equal("Asia/Tokyo", fresh.FindById("other")?.TimeZone);
        }
        finally
        {
            await directory.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task Settings_attribution_could_not_use_are_refused_before_they_are_stored()
    {
        // A goal the engine cannot match would stop the attribution consumer when it rebuilds the rules from the store.
        var factory = await MigratedAsync();
        var admin = new SiteAdmin(factory, TimeProvider.System);
        var organisation = await admin.CreateOrganisationAsync("Goals Ltd", null, Actor.Cli("test"), Ct);
        await admin.CreateSiteAsync(organisation.Id, "goals", "Goals", null, Actor.Cli("test"), Ct);

        var refused = await Assert.ThrowsAsync<ControlPlaneException>(() => admin.UpdateSettingsAsync("goals",
            new SiteOptions { Name = "Goals", Goals = [new SiteGoal { Id = "g", Kind = "pageview" }], CurrencyRates = new() { ["EURO"] = 1.1m } },
            Actor.Cli("test"), Ct));

        Assert.Equal(ControlPlaneException.Invalid, refused.Reason);
        Assert.Contains("settings:Goals:0:Kind", refused.Message, StringComparison.Ordinal);
        Assert.Contains("settings:CurrencyRates:EURO", refused.Message, StringComparison.Ordinal);
        Assert.Equal(SiteAdmin.DefaultGoals().Select(g => g.Id), (await admin.GetSettingsAsync("goals", Ct))!.Goals.Select(g => g.Id));
    }

    [Fact]
    public async Task Names_keep_unicode_and_oversized_names_ids_and_duplicate_sites_are_refused_with_a_reason()
    {
        var factory = await MigratedAsync();
        var admin = new SiteAdmin(factory, TimeProvider.System);
        var name = "Café Zürich 東京 🚀";
        var organisation = await admin.CreateOrganisationAsync(name, null, Actor.Cli("test"), Ct);
        await admin.CreateSiteAsync(organisation.Id, "cafe", name, null, Actor.Cli("test"), Ct);

        var settings = await admin.GetSettingsAsync("cafe", Ct);
        Assert.Equal(name, settings!.Name);
        Assert.Equal(["chat-started", "order-placed"], settings.Goals.Select(g => g.Id));
        await using (var db = await factory.CreateDbContextAsync(Ct))
        {
            Assert.Equal(name, (await db.Organisations.SingleAsync(Ct)).Name);
        }

        var duplicate = await Assert.ThrowsAsync<ControlPlaneException>(() => admin.CreateSiteAsync(organisation.Id, "cafe", "Again", null, Actor.Cli("test"), Ct));
        Assert.Equal(ControlPlaneException.Conflict, duplicate.Reason);
        Assert.Contains("'cafe'", duplicate.Message, StringComparison.Ordinal);

        var tooLong = await Assert.ThrowsAsync<ControlPlaneException>(() => admin.CreateSiteAsync(organisation.Id, "long", new string('é', 201), null, Actor.Cli("test"), Ct));
        Assert.Equal(ControlPlaneException.Invalid, tooLong.Reason);
        var badId = await Assert.ThrowsAsync<ControlPlaneException>(() => admin.CreateSiteAsync(organisation.Id, "café", "Café", null, Actor.Cli("test"), Ct));
        Assert.Contains("settings:Id", badId.Message, StringComparison.Ordinal);
        var badZone = await Assert.ThrowsAsync<ControlPlaneException>(() => admin.CreateSiteAsync(organisation.Id, "zone", "Zone", new SiteOptions { TimeZone = "Mars/Olympus" }, Actor.Cli("test"), Ct));
        Assert.Contains("settings:TimeZone", badZone.Message, StringComparison.Ordinal);
        var control = await Assert.ThrowsAsync<ControlPlaneException>(() => admin.CreateOrganisationAsync("bad\u0000name", null, Actor.Cli("test"), Ct));
        Assert.Equal(ControlPlaneException.Invalid, control.Reason);
        var missing = await Assert.ThrowsAsync<ControlPlaneException>(() => admin.IssueKeyAsync("nope", SiteKeyKind.Write, "", Actor.Cli("test"), Ct));
        Assert.Equal(ControlPlaneException.NotFound, missing.Reason);

        await using (var db = await factory.CreateDbContextAsync(Ct))
        {
            Assert.Equal(["cafe"], await db.Sites.Select(s => s.Id).ToListAsync(Ct)); // no refused change was written
        }
    }

    [Fact]
    public async Task Three_services_on_one_store_start_together_and_all_refuse_a_revoked_key_within_five_seconds()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ControlPlane:Provider"] = stores.Provider.ToString(),
            ["ControlPlane:ConnectionString"] = await stores.NewDatabaseAsync(),
            ["Sites:0:Id"] = "demo",
            ["Sites:0:WriteKeys:0"] = "demo-write-key",
            ["Sites:0:ReadKeys:0"] = "demo-read-key",
        };
        var hosts = Enumerable.Range(0, 3).Select(_ =>
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing", DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.AddControlPlane(builder.Configuration);
            return builder.Build();
        }).ToList();
        try
        {
            // Together, as three services started by one script: one migrates and seeds, the others wait their turn.
            await Task.WhenAll(hosts.Select(h => Task.Run(() => h.StartAsync(Ct))));
            var catalogs = hosts.Select(h => h.Services.GetRequiredService<SiteCatalog>()).ToList();
            Assert.All(catalogs, c => Assert.Equal("demo", c.FindByKey("demo-write-key")?.Site.Id));
            var factory = hosts[0].Services.GetRequiredService<ControlPlaneDbFactory>();
            await using (var db = await factory.CreateDbContextAsync(Ct))
            {
                Assert.Equal(1, await db.Sites.CountAsync(Ct));
                Assert.Equal(2, await db.SiteKeys.CountAsync(Ct));
            }

            var admin = hosts[1].Services.GetRequiredService<SiteAdmin>();
            var clock = Stopwatch.StartNew();
            await admin.RevokeKeyAsync(await KeyIdAsync(factory, "demo-write-key"), Actor.Cli("test"), Ct);
            await WaitUntilAsync(() => catalogs.All(c => c.FindByKey("demo-write-key") is null), RevocationPromise);
            output.WriteLine($"{stores.Provider}: revoked key refused by all three services after {clock.ElapsedMilliseconds} ms");
            Assert.All(catalogs, c => Assert.NotNull(c.FindByKey("demo-read-key")));
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.StopAsync(Ct);
                host.Dispose();
            }
        }
    }

    protected static SiteOptions DemoSite() => new()
    {
        Id = "demo", Name = "Demo shop", WriteKeys = ["demo-write-key"], ServerKeys = ["demo-server-key"], ReadKeys = ["demo-read-key"],
        WooCommerceWebhookSecret = "a-webhook-secret-of-some-length",
    };

    protected async Task<ControlPlaneDbFactory> MigratedAsync()
    {
        var factory = ControlPlaneDbFactory.For(stores.Provider, await stores.NewDatabaseAsync());
        await ControlPlaneSchema.EnsureCurrentAsync(factory, apply: true, NullLogger.Instance, Ct);
        return factory;
    }

    private static async Task<bool> SeedAsync(ControlPlaneDbFactory factory, params SiteOptions[] sites)
    {
        await using var db = await factory.CreateDbContextAsync(Ct);
        return await SiteSeeder.SeedAsync(db, sites, DateTimeOffset.UtcNow, Ct);
    }

    private static async Task<long> VersionAsync(ControlPlaneDbFactory factory)
    {
        await using var db = await factory.CreateDbContextAsync(Ct);
        return await CatalogVersion.ReadAsync(db, Ct);
    }

    private static async Task<Guid> KeyIdAsync(ControlPlaneDbFactory factory, string key)
    {
        await using var db = await factory.CreateDbContextAsync(Ct);
        var hash = SiteCatalog.HashKey(key);
        return await db.SiteKeys.Where(k => k.Hash == hash).Select(k => k.Id).SingleAsync(Ct);
    }

    private static async Task<(SiteCatalog Catalog, SiteDirectory Directory)> StartDirectoryAsync(ControlPlaneDbFactory factory, ListLogger<SiteDirectory>? logger = null)
    {
        var catalog = new SiteCatalog([]);
        var directory = new SiteDirectory(factory, catalog, Options.Create(new ControlPlaneOptions()), TimeProvider.System,
            logger ?? (Microsoft.Extensions.Logging.ILogger<SiteDirectory>)NullLogger<SiteDirectory>.Instance);
        await directory.StartAsync(Ct);
        return (catalog, directory);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < timeout, $"not true within {timeout}");
            await Task.Delay(20, Ct);
        }
    }
}

public sealed class SqliteStoreTests : StoreTests, IDisposable
{
    private readonly SqliteStores files;

    public SqliteStoreTests(ITestOutputHelper output)
        : this(new SqliteStores(), output)
    {
    }

    private SqliteStoreTests(SqliteStores files, ITestOutputHelper output)
        : base(files, output) => this.files = files;

    public void Dispose() => files.Dispose();
}

public sealed class PostgresStoreTests(PostgresServer server, ITestOutputHelper output) : StoreTests(new PostgresStores(server), output);
