using ClickHouse.Driver;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.DevStack.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Insights.QueryApi.Tests.Support;

/// <summary>
/// Two partners and their clients in a real control-plane SQLite file, and their sites' visits, orders and credits in
/// a real ClickHouse database: partner A manages Alpha (sites alpha-de in EUR, alpha-us in USD) and Beta (beta, EUR);
/// partner B manages Gamma (gamma, EUR). Acme visits alpha-de, beta and gamma; Globex only gamma; Initech only alpha-us.
/// People, each with a personal API token: an admin of each partner, A's staff assigned to Beta only, Beta's owner (no
/// partner role).
/// </summary>
public sealed class PartnerWorld(DevStackFixture stack) : IAsyncLifetime
{
    public static readonly DateTime Day = new(2026, 5, 3, 0, 0, 0, DateTimeKind.Utc);
    public const string Span = "from=2026-05-01T00:00:00Z&to=2026-05-08T00:00:00Z";

    public static readonly Guid PartnerA = Guid.Parse("aaaaaaaa-0000-4000-8000-000000000001");
    public static readonly Guid PartnerB = Guid.Parse("bbbbbbbb-0000-4000-8000-000000000002");
    public static readonly Guid Alpha = Guid.Parse("aaaaaaaa-1111-4000-8000-000000000001");
    public static readonly Guid Beta = Guid.Parse("aaaaaaaa-2222-4000-8000-000000000002");
    public static readonly Guid Gamma = Guid.Parse("bbbbbbbb-3333-4000-8000-000000000003");
    public static readonly Guid AdminA = Guid.Parse("0000000a-0000-4000-8000-00000000000a");
    public static readonly Guid AdminB = Guid.Parse("0000000b-0000-4000-8000-00000000000b");
    public static readonly Guid StaffA = Guid.Parse("0000000c-0000-4000-8000-00000000000c");
    public static readonly Guid BetaOwner = Guid.Parse("0000000d-0000-4000-8000-00000000000d");

    /// <summary>Site id, reporting currency, time zone, organisation.</summary>
    public static readonly (string Id, string Currency, string TimeZone, Guid Organisation)[] Sites =
    [
        ("alpha-de", "EUR", "Europe/Berlin", Alpha),
        ("alpha-us", "USD", "America/New_York", Alpha),
        ("beta", "EUR", "UTC", Beta),
        ("gamma", "EUR", "UTC", Gamma),
    ];

    private readonly Dictionary<Guid, string> tokens = [];
    private string directory = "";

    public EventsDatabase Database { get; private set; } = null!;

    public QueryApiFactory Api { get; private set; } = null!;

    public static string ReadKey(string site) => $"{site}-read-key-0001";

    public Dictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ClickHouse:ConnectionString"] = Database.ConnectionString,
            ["ClickHouse:Database"] = Database.Name,
            ["ControlPlane:DataDirectory"] = directory,
        };
        for (var i = 0; i < Sites.Length; i++)
        {
            settings[$"Sites:{i}:Id"] = Sites[i].Id;
            settings[$"Sites:{i}:TimeZone"] = Sites[i].TimeZone;
            settings[$"Sites:{i}:ReportingCurrency"] = Sites[i].Currency;
            settings[$"Sites:{i}:ReadKeys:0"] = ReadKey(Sites[i].Id);
            settings[$"Sites:{i}:WriteKeys:0"] = $"{Sites[i].Id}-write-key-0001";
        }

        return settings;
    }

    /// <summary>The API over this world, with settings changed or added.</summary>
    public QueryApiFactory StartApi(Dictionary<string, string?>? changes = null)
    {
        var settings = Settings();
        foreach (var (key, value) in changes ?? [])
        {
            settings[key] = value;
        }

        return new QueryApiFactory(settings);
    }

    public async ValueTask InitializeAsync()
    {
        directory = Directory.CreateTempSubdirectory("insights-partners-").FullName;
        Database = await EventsDatabase.CreateMigratedAsync(stack);
        await InsertVisitsAsync();
        await InsertOrdersAsync();
        Api = StartApi();
        using (Api.CreateClient())
        {
            // Starting the host migrated the control plane.
        }

        await InsertTenancyAsync(Api.Services.GetRequiredService<IDbContextFactory<ControlPlaneDb>>());
        var tokens = Api.Services.GetRequiredService<ApiTokens>();
        foreach (var person in new[] { AdminA, AdminB, StaffA, BetaOwner })
        {
            var (token, _) = await tokens.CreateAsync(person, "partner roll-ups", null, TestContext.Current.CancellationToken)
                ?? throw new InvalidOperationException($"no token for {person}");
            this.tokens[person] = token;
        }
    }

    /// <summary>The person's personal API token: the tests call as people do from scripts (<c>Authorization: Bearer ipt_…</c>).</summary>
    public string Token(Guid person) => tokens[person];

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        Database.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>Visits happening now (the live view's tests).</summary>
    public Task InsertLiveVisitsAsync(params TestVisit[] visits) => stack.InsertVisitsAsync(Database.Name, visits);

    private async Task InsertVisitsAsync()
    {
        await stack.InsertVisitsAsync(Database.Name,
            new TestVisit("a1", "va1", Day.AddHours(9), ["/", "/pricing"], "acme-00000001", "Acme", Site: "alpha-de"),
            new TestVisit("a2", "va2", Day.AddHours(10), ["/", "/blog"], "acme-00000001", "Acme", Site: "alpha-de"),
            new TestVisit("a3", "va3", Day.AddHours(11), ["/contact"], "acme-00000001", "Acme", Site: "beta"),
            new TestVisit("a4", "va4", Day.AddHours(12), ["/", "/pricing", "/demo"], "acme-00000001", "Acme", Site: "gamma"),
            new TestVisit("g1", "vg1", Day.AddHours(13), ["/", "/pricing", "/contact", "/demo"], "globex-00000002", "Globex", Site: "gamma"),
            new TestVisit("i1", "vi1", Day.AddHours(14), ["/"], "initech-00000003", "Initech", Site: "alpha-us"),
            new TestVisit("r1", "vr1", Day.AddHours(15), ["/", "/pricing"], Site: "alpha-de"),
            // Outside the range: counted in no roll-up of it.
            new TestVisit("old", "vo1", Day.AddDays(-10), ["/pricing"], "acme-00000001", "Acme", Site: "beta"));
    }

    private async Task InsertOrdersAsync()
    {
        using var client = new ClickHouseClient(stack.ConnectionString(Database.Name));
        var at = Day.AddHours(16);
        // An order in another currency than the site reports in has no rate here: no reporting amounts.
        object?[] Order(string site, string id, string currency, decimal amount, uint chats, bool cancelled = false)
        {
            var reporting = Sites.First(s => s.Id == site).Currency;
            var net = cancelled ? 0m : amount;
            var converted = currency == reporting;
            return
            [
                site, id, "p-" + id, at, currency, amount, 0m, cancelled, net, reporting,
                converted ? amount : null, converted ? net : null, chats, 1UL,
            ];
        }

        object?[] Credit(string site, string order, string model, string chat, double share, decimal amount) =>
        [
            site, order, model, chat, share, amount, Sites.First(s => s.Id == site).Currency, amount, Sites.First(s => s.Id == site).Currency,
            at, at.AddMinutes(-30), "agent-" + chat, "livechat", "p-" + order, "high", 1UL,
        ];

        string[] orderColumns =
        [
            "site_id", "order_id", "person_id", "placed_at", "currency", "amount", "refunded", "cancelled", "net", "reporting_currency",
            "amount_reporting", "net_reporting", "chats_in_window", "version",
        ];
        await client.InsertBinaryAsync("orders", orderColumns,
        [
            Order("alpha-de", "o1", "EUR", 100.50m, 1),
            Order("alpha-de", "o2", "EUR", 40m, 0),
            Order("alpha-de", "o3", "EUR", 75m, 2, cancelled: true),
            Order("alpha-us", "o4", "USD", 300m, 1),
            Order("beta", "o5", "EUR", 19.99m, 1),
            Order("beta", "o6", "GBP", 10m, 0), // no rate: counted, in no amount
            Order("gamma", "o7", "EUR", 5000m, 1),
        ], cancellationToken: TestContext.Current.CancellationToken);

        string[] creditColumns =
        [
            "site_id", "order_id", "model", "chat_id", "share", "amount", "currency", "amount_reporting", "reporting_currency",
            "order_placed_at", "chat_started_at", "agent_id", "channel", "person_id", "confidence", "version",
        ];
        await client.InsertBinaryAsync("attribution_credits", creditColumns,
        [
            Credit("alpha-de", "o1", "last_chat", "c1", 1, 100.50m),
            Credit("alpha-de", "o1", "linear", "c1", 1, 100.50m),
            Credit("alpha-us", "o4", "last_chat", "c2", 1, 300m),
            Credit("alpha-us", "o4", "linear", "c2", 0.5, 150m),
            Credit("alpha-us", "o4", "linear", "c3", 0.5, 150m),
            Credit("beta", "o5", "last_chat", "c4", 1, 19.99m),
            Credit("gamma", "o7", "last_chat", "c5", 1, 5000m),
        ], cancellationToken: TestContext.Current.CancellationToken);
    }

    private static async Task InsertTenancyAsync(IDbContextFactory<ControlPlaneDb> factory)
    {
        await using var db = await factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        var now = DateTimeOffset.UtcNow;
        db.Partners.AddRange(new Partner { Id = PartnerA, Name = "Agency A", CreatedAt = now }, new Partner { Id = PartnerB, Name = "Agency B", CreatedAt = now });
        db.Organisations.AddRange(
            new Organisation { Id = Alpha, Name = "Alpha GmbH", PartnerId = PartnerA, CreatedAt = now },
            new Organisation { Id = Beta, Name = "Beta Inc", PartnerId = PartnerA, CreatedAt = now },
            new Organisation { Id = Gamma, Name = "Gamma Ltd", PartnerId = PartnerB, CreatedAt = now });
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);

        // The configured sites may have been seeded already (each under an organisation of its own): move them to their client.
        foreach (var (id, _, _, organisation) in Sites)
        {
            var site = await db.Sites.FindAsync([id], TestContext.Current.CancellationToken);
            if (site is null)
            {
                db.Sites.Add(new Site { Id = id, Name = id.ToUpperInvariant(), OrganisationId = organisation, CreatedAt = now, UpdatedAt = now });
            }
            else
            {
                site.OrganisationId = organisation;
                site.Name = id.ToUpperInvariant();
            }
        }

        foreach (var (person, email) in new[] { (AdminA, "admin@a.example"), (AdminB, "admin@b.example"), (StaffA, "staff@a.example"), (BetaOwner, "owner@beta.example") })
        {
            db.People.Add(new Person { Id = person, Email = email, NormalizedEmail = email, SecurityStamp = person.ToString("N"), CreatedAt = now });
        }

        Membership Member(Guid person, ScopeKind kind, Guid scope, Role role) =>
            new() { Id = Guid.NewGuid(), PersonId = person, ScopeKind = kind, ScopeId = scope.ToString("D"), Role = role, CreatedAt = now };
        db.Memberships.AddRange(
            Member(AdminA, ScopeKind.Partner, PartnerA, Role.PartnerAdmin),
            Member(AdminB, ScopeKind.Partner, PartnerB, Role.PartnerAdmin),
            Member(StaffA, ScopeKind.Partner, PartnerA, Role.PartnerStaff),
            Member(StaffA, ScopeKind.Organisation, Beta, Role.PartnerStaff), // staff are assigned to a client so
            Member(BetaOwner, ScopeKind.Organisation, Beta, Role.Owner));
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
    }
}
