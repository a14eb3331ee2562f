using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.ControlPlane.Store;
using Insights.ControlPlane.Tests.Support;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane.Tests;

/// <summary>Provisioning is all or nothing, and an organisation keeps an owner: the same on every provider (each derived class runs all of it on one).</summary>
public abstract class PeopleStoreTests(IStoreProvider stores)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task A_client_whose_second_site_is_refused_leaves_nothing_behind()
    {
        var (factory, provisioning, partner) = await StartAsync();
        var before = await CountsAsync(factory);

        // The second site's name is refused only when that site is made: after the organisation, the first site and its keys.
        var invalid = await Assert.ThrowsAsync<ControlPlaneException>(() => provisioning.CreateClientAsync(partner, "Bäckerei Müller", "owner@example.test",
            [new("baeckerei", "Bäckerei"), new("filiale", "Filiale\u0000zwei")], Actor.Cli("test"), Ct));
        Assert.Equal(ControlPlaneException.Invalid, invalid.Reason);
        Assert.Equal(before, await CountsAsync(factory));

        // Two sites without ids whose names give one slug: the second id is chosen free of the first, not taken twice.
        var made = await provisioning.CreateClientAsync(partner, "Twins", "twins@example.test", [new(null, "Shop"), new(null, "Shop!")], Actor.Cli("test"), Ct);
        Assert.Equal(["shop", "shop-2"], made.Sites.Select(s => s.Id));
        var afterTwins = await CountsAsync(factory);
        Assert.Equal(before with { Organisations = before.Organisations + 1, Sites = 2, Keys = 6, Invitations = 1, Mails = 1, Version = before.Version + 1 }, afterTwins);

        // An id taken by an existing site, given second: refused before anything of this client is kept.
        var taken = await Assert.ThrowsAsync<PeopleOperationException>(() => provisioning.CreateClientAsync(partner, "Late", "late@example.test",
            [new("late-1", "Late one"), new("shop-2", "Late two")], Actor.Cli("test"), Ct));
        Assert.Equal("site_exists", taken.Reason);

        // The same id twice in one request.
        var twice = await Assert.ThrowsAsync<PeopleOperationException>(() => provisioning.CreateClientAsync(partner, "Twice", "twice@example.test",
            [new("same", "One"), new("same", "Two")], Actor.Cli("test"), Ct));
        Assert.Equal("site_exists", twice.Reason);
        Assert.Equal(afterTwins, await CountsAsync(factory));
        await using var db = await factory.CreateDbContextAsync(Ct);
        Assert.DoesNotContain(await db.Outbox.Select(m => m.To).ToListAsync(Ct), to => to is "owner@example.test" or "late@example.test" or "twice@example.test");
    }

    [Fact]
    public async Task Two_owners_removing_each_other_at_once_leave_one_owner()
    {
        var (factory, _, _) = await StartAsync();
        var members = new Members(factory, TimeProvider.System);
        for (var round = 0; round < 5; round++)
        {
            var organisation = Guid.CreateVersion7();
            var (first, second) = (Guid.CreateVersion7(), Guid.CreateVersion7());
            await using (var db = await factory.CreateDbContextAsync(Ct))
            {
                db.Organisations.Add(new Organisation { Id = organisation, Name = $"Round {round}", CreatedAt = DateTimeOffset.UtcNow });
                foreach (var person in new[] { first, second })
                {
                    db.People.Add(new Person { Id = person, Email = $"{person:N}@example.test", NormalizedEmail = $"{person:N}@example.test", CreatedAt = DateTimeOffset.UtcNow });
                    db.Memberships.Add(new Membership
                    {
                        Id = Guid.CreateVersion7(), PersonId = person, ScopeKind = ScopeKind.Organisation, ScopeId = organisation.ToString("D"), Role = Role.Owner,
                        CreatedAt = DateTimeOffset.UtcNow,
                    });
                }

                await db.SaveChangesAsync(Ct);
            }

            var outcomes = await Task.WhenAll(
                Task.Run(() => Outcome(() => members.RemoveAsync(organisation, null, second, first, Actor.Person(first), Ct))),
                Task.Run(() => Outcome(() => members.RemoveAsync(organisation, null, first, second, Actor.Person(second), Ct))));

            // One goes first; the other then finds its caller no longer an owner (had it gone unserialized, both would be removed).
            Assert.Equal(["removed", "role_insufficient"], outcomes.Order(StringComparer.Ordinal));
            Assert.Single((await members.ListAsync(organisation, Ct)).Members, m => m.Role == "owner");
        }
    }

    private static async Task<string> Outcome(Func<Task> remove)
    {
        try
        {
            await remove();
            return "removed";
        }
        catch (PeopleOperationException e)
        {
            return e.Reason;
        }
    }

    private sealed record Counts(int Organisations, int Sites, int Keys, int Invitations, int Mails, long Version);

    private static async Task<Counts> CountsAsync(ControlPlaneDbFactory factory)
    {
        await using var db = await factory.CreateDbContextAsync(Ct);
        return new(await db.Organisations.CountAsync(Ct), await db.Sites.CountAsync(Ct), await db.SiteKeys.CountAsync(Ct), await db.Invitations.CountAsync(Ct),
            await db.Outbox.CountAsync(Ct), await CatalogVersion.ReadAsync(db, Ct));
    }

    private async Task<(ControlPlaneDbFactory Factory, Provisioning Provisioning, Guid Partner)> StartAsync()
    {
        var factory = ControlPlaneDbFactory.For(stores.Provider, await stores.NewDatabaseAsync());
        await ControlPlaneSchema.EnsureCurrentAsync(factory, apply: true, NullLogger.Instance, Ct);
        var partner = new Partner { Id = Guid.CreateVersion7(), Name = "Agency", CreatedAt = DateTimeOffset.UtcNow };
        await using (var db = await factory.CreateDbContextAsync(Ct))
        {
            db.Partners.Add(partner);
            await db.SaveChangesAsync(Ct);
        }

        var invitations = new Invitations(factory, new PasswordHasher<Person>(), Options.Create(new PeopleOptions()), TimeProvider.System);
        return (factory, new Provisioning(factory, new SiteAdmin(factory, TimeProvider.System), invitations, TimeProvider.System), partner.Id);
    }
}

public sealed class SqlitePeopleStoreTests : PeopleStoreTests, IDisposable
{
    private readonly SqliteStores files;

    public SqlitePeopleStoreTests()
        : this(new SqliteStores())
    {
    }

    private SqlitePeopleStoreTests(SqliteStores files)
        : base(files) => this.files = files;

    public void Dispose() => files.Dispose();
}

public sealed class PostgresPeopleStoreTests(PostgresServer server) : PeopleStoreTests(new PostgresStores(server));
