using System.Text.RegularExpressions;
using Insights.Contracts;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.ControlPlane.Store;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane.Cli.Tests;

/// <summary>insights-admin as operators run it: a process against a real SQLite file, checked by its output and the store.</summary>
public sealed partial class AdminCliTests : IDisposable
{
    private readonly AdminCli cli = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Init_migrates_a_fresh_install_creates_the_partner_and_prints_an_invitation_link_but_no_password()
    {
        var output = await cli.SucceedAsync("init", "--partner", "Agency", "--email", "admin@agency.example", "--base-url", "https://insights.agency.example/");

        var token = InvitationLink().Match(output) is { Success: true } link ? link.Groups[1].Value : throw new Xunit.Sdk.XunitException($"no link in:\n{output}");
        Assert.DoesNotContain("password", output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"SQLite {cli.DefaultStore}", output, StringComparison.Ordinal);

        await using var db = cli.Open();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(Ct));
        var partner = Assert.Single(await db.Partners.ToListAsync(Ct));
        Assert.Equal("Agency", partner.Name);
        Assert.Equal(AdminCli.PartnerId(output), partner.Id);
        var invitation = Assert.Single(await db.Invitations.ToListAsync(Ct));
        Assert.Equal(SiteCatalog.HashKey(token), invitation.TokenHash); // only the hash is stored
        Assert.Equal(("admin@agency.example", ScopeKind.Partner, partner.Id.ToString("D"), Role.PartnerAdmin),
            (invitation.Email, invitation.ScopeKind, invitation.ScopeId, invitation.Role));
        Assert.Null(invitation.AcceptedAt);
        Assert.InRange(invitation.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromDays(7) - TimeSpan.FromMinutes(5), TimeSpan.FromDays(7));
        Assert.Empty(await db.People.ToListAsync(Ct)); // the invitee creates their own sign-in
        var audit = await db.AuditLog.OrderBy(a => a.Id).ToListAsync(Ct);
        Assert.Equal(["partner.created", "person.invited"], audit.Select(a => a.Action));
        Assert.All(audit, a => Assert.Equal("cli", a.ActorKind));
        Assert.DoesNotContain(audit, a => a.DetailJson.Contains(token, StringComparison.Ordinal));
        var mail = Assert.Single(await db.Outbox.ToListAsync(Ct)); // delivered by the services' SMTP sender when one is configured
        Assert.Equal("admin@agency.example", mail.To);
        Assert.Contains($"https://insights.agency.example/v1/invitations/{token}", mail.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_printed_invitation_is_accepted_by_the_accounts_and_makes_the_invitee_partner_admin()
    {
        var output = await cli.SucceedAsync("init", "--partner", "Agency", "--email", "Admin@Agency.example");
        var token = Assert.Single(InvitationLink127().Matches(output)).Groups[1].Value; // People:PublicBaseUrl's default

        var invitations = new Invitations(ControlPlaneDbFactory.For(ControlPlaneProvider.Sqlite, $"Data Source={cli.DefaultStore}"),
            new PasswordHasher<Person>(), Options.Create(new PeopleOptions()), TimeProvider.System);
        var accepted = await invitations.AcceptAsync(token, null, "a long passphrase of her own", "Ada", Ct);
        Assert.Equal(AcceptOutcome.Accepted, accepted.Outcome);
        Assert.Equal(AcceptOutcome.NotFound, (await invitations.AcceptAsync(token, null, "another passphrase here", "Eve", Ct)).Outcome); // single use

        var people = await cli.SucceedAsync("people", "list");
        Assert.Matches(@"admin@agency\.example\s+Ada\s+[0-9a-f-]{36}\s+partner admin @ partner Agency\s+active", people);
        Assert.DoesNotContain("Invitations not accepted yet", people, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_store_is_where_the_services_settings_say_appsettings_then_environment()
    {
        await File.WriteAllTextAsync(Path.Combine(cli.Directory, "appsettings.json"), """{ "ControlPlane": { "DataDirectory": "state" } }""", Ct);
        await cli.SucceedAsync("init", "--partner", "From Appsettings", "--email", "a@example.com");
        Assert.True(File.Exists(Path.Combine(cli.Directory, "state", "control-plane.db")));
        Assert.False(File.Exists(cli.DefaultStore));

        var elsewhere = Path.Combine(cli.Directory, "elsewhere.db");
        cli.Environment["ControlPlane__ConnectionString"] = $"Data Source={elsewhere}";
        await cli.SucceedAsync("init", "--partner", "From Environment", "--email", "b@example.com");
        await using var db = cli.Open(elsewhere);
        Assert.Equal(["From Environment"], await db.Partners.Select(p => p.Name).ToListAsync(Ct));
    }

    [Fact]
    public async Task A_store_without_schema_is_refused_with_exit_3_naming_init()
    {
        foreach (var command in new[] { new[] { "sites", "list" }, ["people", "list"], ["audit", "tail"], ["partners", "list"] })
        {
            await cli.FailAsync(3, "is not initialised", command);
        }

        await cli.FailAsync(3, "run insights-admin init --partner <name> --email <address>", "keys", "list", "--site", "shop");
    }

    [Fact]
    public async Task A_second_partner_of_the_same_name_is_refused_and_nothing_is_written()
    {
        await cli.SucceedAsync("init", "--partner", "Agentur Ölmühle 🚀", "--email", "admin@agency.example");
        await cli.FailAsync(1, "a partner named 'Agentur Ölmühle 🚀' already exists", "init", "--partner", "agentur ölmühle 🚀", "--email", "x@agency.example");

        await using var db = cli.Open();
        Assert.Single(await db.Partners.ToListAsync(Ct));
        Assert.Single(await db.Invitations.ToListAsync(Ct));
        var list = await cli.SucceedAsync("partners", "list");
        Assert.Contains("Agentur Ölmühle 🚀", list, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-an-email", "--email")]
    [InlineData("admin@agency.example\nBcc: victim@example.com", "--email")]
    [InlineData("Admin <admin@agency.example>", "--email")]
    public async Task A_malformed_email_is_refused_before_anything_is_written(string email, string says)
    {
        await cli.FailAsync(1, says, "init", "--partner", "Agency", "--email", email);
        await using var db = cli.Open();
        Assert.Empty(await db.Partners.ToListAsync(Ct));
    }

    [Fact]
    public async Task Hostile_or_missing_arguments_are_refused_naming_the_fix()
    {
        await cli.FailAsync(1, "--partner: a name of 1 to 200 characters", "init", "--partner", new string('x', 201), "--email", "a@example.com");
        await cli.FailAsync(1, "--partner: a name", "init", "--partner", "Bad\u0007Name", "--email", "a@example.com");
        await cli.FailAsync(2, "init needs --partner <NAME> and --email <ADDRESS>", "init", "--partner", "Agency");
        await cli.FailAsync(2, "--base-url must be an http(s) address", "init", "--partner", "Agency", "--email", "a@example.com", "--base-url", "javascript:alert(1)");
        await cli.FailAsync(2, "Unknown command", "sites", "destroy");

        await cli.SucceedAsync("init", "--partner", "Agency", "--email", "a@example.com");
        await cli.FailAsync(1, "--org must be an id", "sites", "create", "--org", "shop-ltd", "--id", "shop", "--name", "Shop");
        await cli.FailAsync(1, "list them with insights-admin orgs list", "sites", "create", "--org", Guid.NewGuid().ToString(), "--id", "shop", "--name", "Shop");
        await cli.FailAsync(1, "--partner must be an id", "orgs", "create", "--name", "Shop", "--partner", "Agency");
        await cli.FailAsync(1, "list them with insights-admin partners list", "orgs", "create", "--name", "Shop", "--partner", Guid.NewGuid().ToString());
        await cli.FailAsync(2, "--count must be from 1 to 1000", "audit", "tail", "-n", "100000");
    }

    [Fact]
    public async Task Sites_create_prints_its_three_keys_once_and_the_store_keeps_only_their_hashes()
    {
        var organisation = await ClientAsync();
        var output = await cli.SucceedAsync("sites", "create", "--org", organisation.ToString(), "--id", "shop", "--name", "Shop");

        var keys = AdminCli.Keys(output);
        Assert.Equal(["ik_pub_", "ik_srv_", "ik_read"], keys.Select(k => k[..7]));
        await using (var db = cli.Open())
        {
            var site = await db.Sites.SingleAsync(s => s.Id == "shop", Ct);
            Assert.Equal(organisation, site.OrganisationId);
            var stored = await db.SiteKeys.Where(k => k.SiteId == "shop").ToListAsync(Ct);
            Assert.Equal(keys.Select(SiteCatalog.HashKey).Order(), stored.Select(k => k.Hash).Order());
            Assert.DoesNotContain(stored, k => keys.Any(key => k.Hint.Contains(key, StringComparison.Ordinal) || k.Label.Contains(key, StringComparison.Ordinal)));
            Assert.Contains("chat-started", site.SettingsJson, StringComparison.Ordinal); // the default goals
            Assert.Contains(await db.AuditLog.Where(a => a.ActorKind == "cli").Select(a => a.Action).ToListAsync(Ct), a => a == "site.created");
        }

        // Never shown again: lists carry hints only.
        var list = await cli.SucceedAsync("keys", "list", "--site", "shop");
        var sites = await cli.SucceedAsync("sites", "list");
        Assert.Empty(AdminCli.Keys(list + sites));
        Assert.Contains("write 1, server 1, read 1", sites, StringComparison.Ordinal);
        await cli.FailAsync(1, "the site id 'shop' is taken", "sites", "create", "--org", organisation.ToString(), "--id", "shop", "--name", "Shop");
        await cli.FailAsync(1, "settings:Id", "sites", "create", "--org", organisation.ToString(), "--id", "Shop Ü", "--name", "Shop");
    }

    [Fact]
    public async Task Lists_are_aligned_tables()
    {
        var organisation = await ClientAsync();
        await cli.SucceedAsync("sites", "create", "--org", organisation.ToString(), "--id", "a-very-long-site-id", "--name", "Long");
        await cli.SucceedAsync("sites", "create", "--org", organisation.ToString(), "--id", "s", "--name", "Ölmühle 🚀");

        var lines = (await cli.SucceedAsync("sites", "list")).Split('\n');
        var header = lines.Single(l => l.TrimStart().StartsWith("Site ", StringComparison.Ordinal));
        var rows = lines.Where(l => l.Contains("Shop Ltd", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        foreach (var column in new[] { "Organisation", "Partner", "Working keys" })
        {
            var at = header.IndexOf(column, StringComparison.Ordinal);
            Assert.All(rows, row => Assert.NotEqual(' ', row[at]));
            Assert.All(rows, row => Assert.Equal(' ', row[at - 1]));
        }
    }

    [Fact]
    public async Task Keys_rotate_with_grace_and_revoke_change_the_store_and_a_second_revoke_is_refused()
    {
        var organisation = await ClientAsync();
        await cli.SucceedAsync("sites", "create", "--org", organisation.ToString(), "--id", "shop", "--name", "Shop");
        Guid readKey;
        await using (var db = cli.Open())
        {
            readKey = await db.SiteKeys.Where(k => k.Kind == SiteKeyKind.Read).Select(k => k.Id).SingleAsync(Ct);
        }

        var rotated = await cli.SucceedAsync("keys", "rotate", readKey.ToString(), "--grace", "2h");
        var newKey = Assert.Single(AdminCli.Keys(rotated));
        await cli.SucceedAsync("keys", "revoke", readKey.ToString());
        await cli.FailAsync(1, "already revoked or expired", "keys", "revoke", readKey.ToString());
        await cli.FailAsync(2, "--grace must be a duration", "keys", "rotate", readKey.ToString(), "--grace", "-5m");
        await cli.FailAsync(1, "list them with insights-admin keys list", "keys", "revoke", Guid.NewGuid().ToString());

        await using (var db = cli.Open())
        {
            var keys = await db.SiteKeys.Where(k => k.Kind == SiteKeyKind.Read).ToListAsync(Ct);
            var old = keys.Single(k => k.Id == readKey);
            Assert.NotNull(old.RevokedAt);
            Assert.InRange(old.ExpiresAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(110), TimeSpan.FromHours(2));
            var replacement = keys.Single(k => k.Id != readKey);
            Assert.Equal(SiteCatalog.HashKey(newKey), replacement.Hash);
            Assert.True(replacement.WorksAt(DateTimeOffset.UtcNow));
            var actions = await db.AuditLog.Where(a => a.ActorKind == "cli").Select(a => a.Action).ToListAsync(Ct);
            Assert.Contains("key.rotated", actions);
            Assert.Contains("key.revoked", actions);
        }

        var list = await cli.SucceedAsync("keys", "list", "--site", "shop");
        Assert.Contains("revoked", list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task People_list_shows_pending_invitations_and_audit_tail_the_latest_changes()
    {
        await cli.SucceedAsync("init", "--partner", "Agency", "--email", "admin@agency.example");
        await using (var db = cli.Open())
        {
            var now = DateTimeOffset.UtcNow;
            var partner = await db.Partners.SingleAsync(Ct);
            var person = new Person { Id = Guid.NewGuid(), Email = "staff@agency.example", NormalizedEmail = "staff@agency.example", DisplayName = "Sam", SecurityStamp = "s", CreatedAt = now };
            db.People.Add(person);
            db.Memberships.Add(new Membership
            {
                Id = Guid.NewGuid(), PersonId = person.Id, ScopeKind = ScopeKind.Partner, ScopeId = partner.Id.ToString("D"), Role = Role.PartnerStaff, CreatedAt = now,
            });
            await db.SaveChangesAsync(Ct);
        }

        var people = await cli.SucceedAsync("people", "list");
        Assert.Matches(@"staff@agency\.example\s+Sam\s+[0-9a-f-]{36}\s+partner staff @ partner Agency", people);
        Assert.Matches(@"Invitations not accepted yet:[\s\S]*admin@agency\.example\s+partner admin\s+partner Agency", people);

        var audit = await cli.SucceedAsync("audit", "tail", "-n", "1");
        Assert.Contains("person.invited", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("partner.created", audit, StringComparison.Ordinal);
        Assert.Matches(@"cli \S+\s+person\.invited\s+partner Agency", audit);
    }

    public void Dispose() => cli.Dispose();

    /// <summary>An initialised store with a partner and one client organisation; returns the organisation's id.</summary>
    private async Task<Guid> ClientAsync()
    {
        var init = await cli.SucceedAsync("init", "--partner", "Agency", "--email", "admin@agency.example");
        var created = await cli.SucceedAsync("orgs", "create", "--name", "Shop Ltd", "--partner", AdminCli.PartnerId(init).ToString());
        return Guid.Parse(OrganisationLine().Match(created).Groups[1].Value);
    }

    [GeneratedRegex(@"^https://insights\.agency\.example/v1/invitations/(iin_[A-Za-z0-9_-]{43})$", RegexOptions.Multiline)]
    private static partial Regex InvitationLink();

    [GeneratedRegex(@"^http://127\.0\.0\.1:\d+/v1/invitations/(iin_[A-Za-z0-9_-]{43})$", RegexOptions.Multiline)]
    private static partial Regex InvitationLink127();

    [GeneratedRegex(@"created: ([0-9a-f-]{36})")]
    private static partial Regex OrganisationLine();
}
