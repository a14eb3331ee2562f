using System.Text.Json;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;
using Insights.EndToEnd.Tests;

namespace Insights.Dashboards.BrowserTests;

/// <summary>
/// The whole system as a person installs it: <c>scripts/run.sh</c> on private ports, then the accounts a partner
/// creates — <c>scripts/admin.sh init</c> for the agency, two clients provisioned over HTTP (Acme and Globex, one site
/// each), each owner accepting their invitation with a password. Those two are read, never changed: a test that sends
/// traffic or changes settings provisions a client of its own (<see cref="NewClientAsync"/>), so no test depends on
/// another's data or timing. The processors know three company networks (<see cref="Companies"/>;
/// <c>Enrichment:CompanyRanges</c>).
/// </summary>
public sealed partial class DashboardSystem : IAsyncLifetime
{
    public const string PartnerEmail = "boss@agency.example";
    public const string PartnerPassword = "the agency boss's passphrase";
    public const string OwnerEmail = "owner@acme.example";
    public const string OwnerPassword = "Olga's own passphrase ünïcode";
    public const string GlobexOwnerEmail = "owner@globex.example";
    public const string GlobexOwnerPassword = OwnerPassword + " (Globex)";
    public const string AcmeSite = "acme-shop";
    public const string GlobexSite = "globex-store";

    /// <summary>Companies the processors know by network: name, an address in it, its domain.</summary>
    public static readonly (string Name, string Ip, string Domain)[] Companies =
    [
        ("Initech", "198.51.100.23", "initech.example"),
        ("Umbrella Corp", "198.51.101.23", "umbrella.example"),
        ("Hooli", "198.51.102.23", "hooli.example"),
    ];

    private TestProcess? script;
    private DirectoryInfo? state;
    private int clients;

    public Uri Dashboard { get; private set; } = null!;
    public Uri Query { get; private set; } = null!;
    public Uri Ingest { get; private set; } = null!;
    public string Partner { get; private set; } = "";
    /// <summary>The shared clients' server keys (set once, before any test runs).</summary>
    public IReadOnlyDictionary<string, string> ServerKeys { get; private set; } = new Dictionary<string, string>();

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
        // A CI machine running every test assembly at once starts the services slowly: generous, as the services' own waits are.
        await script.WaitForLineAsync(RunScript.RunningLine(), TimeSpan.FromSeconds(300));

        var (exit, printed) = await RunScript.AdminAsync(environment, "init", "--partner", "Agency North", "--email", PartnerEmail);
        Assert.True(exit == 0, printed);
        using var agency = new ApiPerson(Query);
        await agency.JsonAsync(HttpMethod.Post, $"/v1/invitations/{InvitationToken(printed)}/accept", new { password = PartnerPassword, displayName = "Agency Boss" });
        Partner = (await agency.GetAsync("/v1/me")).GetProperty("memberships").EnumerateArray()
            .Single(m => m.GetProperty("scope").GetString() == "partner").GetProperty("scopeId").GetString()!;
        await agency.CsrfAsync();

        var acme = await ProvisionAsync(agency, "Acme Ltd", OwnerEmail, AcmeSite, "Acme shop", OwnerPassword);
        var globex = await ProvisionAsync(agency, "Globex Corporation", GlobexOwnerEmail, GlobexSite, "Globex store", GlobexOwnerPassword);
        ServerKeys = new Dictionary<string, string>
        {
            [AcmeSite] = acme.GetProperty("serverKey").GetString()!,
            [GlobexSite] = globex.GetProperty("serverKey").GetString()!,
        };
    }

    /// <summary>
    /// A new client of the partner with one site and a signed-up owner, for one test alone (<paramref name="label"/>
    /// names it in ids and failure output). Returns once ingest takes its keys and the query API answers for its site,
    /// so the test's first event or page never meets a service that has not yet heard of it.
    /// </summary>
    public async Task<Client> NewClientAsync(string label)
    {
        var n = Interlocked.Increment(ref clients);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var site = $"{label}-{n}-{suffix}".ToLowerInvariant();
        var client = new Client(
            $"{label} client {n} Ünïcode", site, $"{label} site {n}", $"owner-{n}-{suffix}@{label}.example".ToLowerInvariant(), $"{label}'s owner passphrase {suffix}", "", "", "");
        using var agency = await SignInToApiAsync(PartnerEmail, PartnerPassword);
        await agency.CsrfAsync();
        var created = await ProvisionAsync(agency, client.Name, client.OwnerEmail, client.Site, client.SiteName, client.OwnerPassword);
        client = client with
        {
            ServerKey = created.GetProperty("serverKey").GetString()!,
            WriteKey = created.GetProperty("writeKey").GetString()!,
            ReadKey = created.GetProperty("readKey").GetString()!,
        };
        await WaitUntilKnownAsync(client);
        return client;
    }

    // Services learn of new sites and keys with their next catalog refresh (every second; later on a loaded machine).
    private async Task WaitUntilKnownAsync(Client client)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        foreach (var (what, probe) in new (string, Func<HttpRequestMessage>)[]
        {
            ("the query API", () => new HttpRequestMessage(HttpMethod.Get, new Uri(Query, $"/v1/sites/{client.Site}/live"))
            {
                Headers = { { "Authorization", "Bearer " + client.ReadKey } },
            }),
            // An empty batch: whatever ingest thinks of it, it says 401 only while the key is unknown. Nothing is stored.
            ("ingest (server key)", () => EmptyBatch(client.ServerKey)),
            ("ingest (write key)", () => EmptyBatch(client.WriteKey)),
        })
        {
            while (true)
            {
                using var request = probe();
                using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
                if (response.StatusCode is not (System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.ServiceUnavailable))
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"{what} did not learn of {client.Site} in time: {(int)response.StatusCode}");
                await Task.Delay(250, TestContext.Current.CancellationToken);
            }
        }

        HttpRequestMessage EmptyBatch(string key) => new(HttpMethod.Post, new Uri(Ingest, "/v1/events"))
        {
            Headers = { { "X-Insights-Key", key } },
            Content = new StringContent("[]", System.Text.Encoding.UTF8, "application/json"),
        };
    }

    /// <summary>A signed-in API session of <paramref name="email"/> (the numbers the dashboard must match).</summary>
    public async Task<ApiPerson> SignInToApiAsync(string email, string password)
    {
        var person = new ApiPerson(Query);
        await person.JsonAsync(HttpMethod.Post, "/v1/auth/sign-in", new { email, password });
        return person;
    }

    private async Task<JsonElement> ProvisionAsync(ApiPerson agency, string name, string ownerEmail, string site, string siteName, string ownerPassword)
    {
        var client = await agency.JsonAsync(HttpMethod.Post, $"/v1/partners/{Partner}/clients",
            new { name, ownerEmail, sites = new[] { new { id = site, name = siteName } } }, System.Net.HttpStatusCode.Created);
        var created = client.GetProperty("sites")[0];
        using var owner = new ApiPerson(Query);
        await owner.JsonAsync(HttpMethod.Post, $"/v1/invitations/{InvitationToken(client.GetProperty("invitationLink").GetString()!)}/accept",
            new { password = ownerPassword, displayName = $"Owner of {name}" });
        return created;
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


    [GeneratedRegex(@"/v1/invitations/(?<token>iin_[A-Za-z0-9_-]+)")]
    private static partial Regex InvitationLink();
}

/// <summary>A client made for one test: its site, owner and keys (shown once by the API, kept here).</summary>
public sealed record Client(string Name, string Site, string SiteName, string OwnerEmail, string OwnerPassword, string ServerKey, string WriteKey, string ReadKey);
