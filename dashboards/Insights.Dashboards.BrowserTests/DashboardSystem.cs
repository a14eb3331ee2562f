using System.Text.Json;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;
using Insights.EndToEnd.Tests;

namespace Insights.Dashboards.BrowserTests;

/// <summary>
/// The whole system as a person installs it: <c>scripts/run.sh</c> on private ports, then the accounts a partner
/// creates — <c>scripts/admin.sh init</c> for the agency, two clients provisioned over HTTP (Acme with one site, Globex
/// with one, Initrode with one), each owner accepting their invitation with a password. The processors know three company networks
/// (<see cref="Companies"/>; <c>Enrichment:CompanyRanges</c>), one per test class that needs one, so tests running in
/// parallel never change each other's company figures.
/// </summary>
public sealed partial class DashboardSystem : IAsyncLifetime
{
    public const string PartnerEmail = "boss@agency.example";
    public const string PartnerPassword = "the agency boss's passphrase";
    public const string OwnerEmail = "owner@acme.example";
    public const string OwnerPassword = "Olga's own passphrase ünïcode";
    public const string GlobexOwnerEmail = "owner@globex.example";
    public const string AcmeSite = "acme-shop";
    public const string GlobexSite = "globex-store";

    /// <summary>A client of its own for the Overview's exact numbers: no other test sends it traffic.</summary>
    public const string InitrodeSite = "initrode-web";
    public const string InitrodeOwnerEmail = "owner@initrode.example";

    /// <summary>Companies the processors know by network: name, an address in it, its domain.</summary>
    public static readonly (string Name, string Ip, string Domain)[] Companies =
    [
        ("Initech", "198.51.100.23", "initech.example"),
        ("Umbrella Corp", "198.51.101.23", "umbrella.example"),
        ("Hooli", "198.51.102.23", "hooli.example"),
    ];

    private TestProcess? script;
    private DirectoryInfo? state;

    public Uri Dashboard { get; private set; } = null!;
    public Uri Query { get; private set; } = null!;
    public Uri Ingest { get; private set; } = null!;
    public string Partner { get; private set; } = "";
    public Dictionary<string, string> ServerKeys { get; } = [];

    /// <summary>Everything run.sh printed so far (for failure messages).</summary>
    public string Output => script?.Output ?? "";

    public async ValueTask InitializeAsync()
    {
        var ports = TestProcess.FreePorts(4);
        state = Directory.CreateTempSubdirectory("insights-dashboards-");
        Ingest = new Uri($"http://127.0.0.1:{ports[0]}");
        Query = new Uri($"http://127.0.0.1:{ports[1]}");
        Dashboard = new Uri($"http://127.0.0.1:{ports[3]}");
        var environment = RunScript.Environment(ports, state.FullName);
        for (var i = 0; i < Companies.Length; i++)
        {
            var (name, ip, domain) = Companies[i];
            environment[$"Enrichment__CompanyRanges__{i}__Cidr"] = ip[..ip.LastIndexOf('.')] + ".0/24";
            environment[$"Enrichment__CompanyRanges__{i}__Company"] = name;
            environment[$"Enrichment__CompanyRanges__{i}__Domain"] = domain;
        }

        // Every browser and API person of these tests signs in from 127.0.0.1, and the web app's own sign-ins reach the
        // query API from its address: one address for the whole class of tests, which would meet the per-address
        // sign-in limit (30 a minute) that stands for one person's or one attacker's machine.
        environment["People__SignInAttemptsPerMinute"] = "1000";
        script = RunScript.Start(environment);
        await script.WaitForLineAsync(RunningLine(), TimeSpan.FromSeconds(240));

        var (exit, printed) = await RunScript.AdminAsync(environment, "init", "--partner", "Agency North", "--email", PartnerEmail);
        Assert.True(exit == 0, printed);
        using var agency = new ApiPerson(Query);
        await agency.JsonAsync(HttpMethod.Post, $"/v1/invitations/{InvitationToken(printed)}/accept", new { password = PartnerPassword, displayName = "Agency Boss" });
        Partner = (await agency.GetAsync("/v1/me")).GetProperty("memberships").EnumerateArray()
            .Single(m => m.GetProperty("scope").GetString() == "partner").GetProperty("scopeId").GetString()!;
        await agency.CsrfAsync();

        await ProvisionAsync(agency, "Acme Ltd", OwnerEmail, AcmeSite, "Acme shop", OwnerPassword);
        await ProvisionAsync(agency, "Globex Corporation", GlobexOwnerEmail, GlobexSite, "Globex store", OwnerPassword + " (Globex)");
        await ProvisionAsync(agency, "Initrode", InitrodeOwnerEmail, InitrodeSite, "Initrode web", OwnerPassword);
    }

    /// <summary>A signed-in API session of <paramref name="email"/> (the numbers the dashboard must match).</summary>
    public async Task<ApiPerson> SignInToApiAsync(string email, string password)
    {
        var person = new ApiPerson(Query);
        await person.JsonAsync(HttpMethod.Post, "/v1/auth/sign-in", new { email, password });
        return person;
    }

    private async Task ProvisionAsync(ApiPerson agency, string name, string ownerEmail, string site, string siteName, string ownerPassword)
    {
        var client = await agency.JsonAsync(HttpMethod.Post, $"/v1/partners/{Partner}/clients",
            new { name, ownerEmail, sites = new[] { new { id = site, name = siteName } } }, System.Net.HttpStatusCode.Created);
        ServerKeys[site] = client.GetProperty("sites")[0].GetProperty("serverKey").GetString()!;
        using var owner = new ApiPerson(Query);
        await owner.JsonAsync(HttpMethod.Post, $"/v1/invitations/{InvitationToken(client.GetProperty("invitationLink").GetString()!)}/accept",
            new { password = ownerPassword, displayName = $"Owner of {name}" });
    }

    public async ValueTask DisposeAsync()
    {
        if (script is not null)
        {
            await script.DisposeAsync();
        }

        try
        {
            state?.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A process may still be closing a log file; the temporary directory is left for the OS to clean.
        }
    }

    private static string InvitationToken(string text)
    {
        var match = InvitationLink().Match(text);
        Assert.True(match.Success, $"no invitation link in:\n{text}");
        return match.Groups["token"].Value;
    }

    [GeneratedRegex(@"^\[run\] Insights is running:")]
    private static partial Regex RunningLine();

    [GeneratedRegex(@"/v1/invitations/(?<token>iin_[A-Za-z0-9_-]+)")]
    private static partial Regex InvitationLink();
}
