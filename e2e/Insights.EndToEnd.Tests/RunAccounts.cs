using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Insights.ControlPlane;
using Insights.ControlPlane.Store;
using Microsoft.EntityFrameworkCore;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// The accounts a new install sets up before anything else, as the README tells it, against a <see cref="RunScript"/>
/// run: <c>scripts/admin.sh init</c> invites the first partner admin, who accepts over HTTP and provisions a client
/// (organisation, site, keys, the owner's invitation) in one call; the owner accepts the mailed invitation.
/// </summary>
internal static partial class RunAccounts
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;


    [GeneratedRegex(@"(?<base>http://127\.0\.0\.1:\d+)/v1/invitations/(?<token>iin_[A-Za-z0-9_-]+)")]
    public static partial Regex InvitationLink();

    /// <summary>
    /// Admin init → the partner admin accepts (signed in, CSRF token fetched) → provisions <paramref name="client"/> with
    /// one site. The invitation link the script prints points at <paramref name="query"/>.
    /// </summary>
    public static async Task<ProvisionedClient> ProvisionAsync(IReadOnlyDictionary<string, string> environment, Uri query, ClientPlan client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var (exit, printed) = await RunScript.AdminAsync(environment, "init", "--partner", client.Partner, "--email", client.AdminEmail);
        Assert.True(exit == 0, printed);
        var link = InvitationLink().Match(printed);
        Assert.True(link.Success, $"no invitation link for the query API at {query} in:\n{printed}");
        Assert.Equal(query.ToString().TrimEnd('/'), link.Groups["base"].Value);

        var agency = new Session(query);
        try
        {
            await agency.JsonAsync(HttpMethod.Post, $"/v1/invitations/{link.Groups["token"].Value}/accept", new { password = client.AdminPassword });
            var partner = (await agency.JsonAsync(HttpMethod.Get, "/v1/me")).GetProperty("memberships").EnumerateArray()
                .Single(m => m.GetProperty("scope").GetString() == "partner" && m.GetProperty("role").GetString() == "partner_admin")
                .GetProperty("scopeId").GetString()!;
            await agency.CsrfAsync();
            var created = await agency.JsonAsync(HttpMethod.Post, $"/v1/partners/{partner}/clients",
                new { name = client.Client, ownerEmail = client.OwnerEmail, sites = new[] { new { id = client.SiteId, name = client.SiteName } } },
                HttpStatusCode.Created);
            var site = created.GetProperty("sites")[0];
            return new ProvisionedClient(agency, partner, created, site.GetProperty("writeKey").GetString()!, site.GetProperty("serverKey").GetString()!,
                site.GetProperty("readKey").GetString()!);
        }
        catch
        {
            agency.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The client's owner accepts the invitation mailed to them (read from the outbox of the control plane run.sh uses,
    /// in <paramref name="state"/>), the same link the partner was shown; signed in, CSRF token fetched.
    /// </summary>
    public static async Task<Session> AcceptOwnerAsync(string state, Uri query, ProvisionedClient client, string ownerEmail, string password)
    {
        ArgumentNullException.ThrowIfNull(client);
        var mail = await OutboxMailAsync(state, ownerEmail);
        var token = InvitationLink().Match(mail).Groups["token"].Value;
        Assert.EndsWith(token, client.Client.GetProperty("invitationLink").GetString(), StringComparison.Ordinal);

        var owner = new Session(query);
        try
        {
            await owner.JsonAsync(HttpMethod.Post, $"/v1/invitations/{token}/accept", new { password });
            await owner.CsrfAsync();
            return owner;
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    /// <summary>The newest mail to <paramref name="to"/> in the control plane's outbox, read from the store run.sh uses.</summary>
    private static async Task<string> OutboxMailAsync(string state, string to)
    {
        var factory = ControlPlaneDbFactory.For(ControlPlaneProvider.Sqlite, $"Data Source={Path.Combine(state, "control-plane", "control-plane.db")}");
        await using var db = await factory.CreateDbContextAsync(Ct);
        var mails = await db.Outbox.AsNoTracking().Where(m => m.To == to).ToListAsync(Ct);
        Assert.NotEmpty(mails);
        return mails.OrderBy(m => m.Id).Last().TextBody;
    }

    /// <summary>A browser-like client: the session cookie, and the CSRF header once fetched.</summary>
    internal sealed class Session : IDisposable
    {
        private readonly HttpClient http;
        private readonly CookieContainer cookies;
        private (string Header, string? Token)? csrf;

        public Session(Uri address)
            : this(address, new CookieContainer())
        {
        }

        private Session(Uri address, CookieContainer cookies)
        {
            this.cookies = cookies;
            http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        }

        public List<string> SentBodies { get; } = [];

        public async Task CsrfAsync()
        {
            var answer = await JsonAsync(HttpMethod.Get, "/v1/auth/csrf");
            csrf = (answer.GetProperty("headerName").GetString()!, answer.GetProperty("token").GetString());
            http.DefaultRequestHeaders.Add(csrf.Value.Header, csrf.Value.Token);
        }

        /// <summary>The same browser (its cookies and CSRF token) talking to another instance of the query API.</summary>
        public Session On(Uri address)
        {
            var other = new Session(address, cookies) { csrf = csrf };
            if (csrf is { } token)
            {
                other.http.DefaultRequestHeaders.Add(token.Header, token.Token);
            }

            return other;
        }

        public async Task<JsonElement> JsonAsync(HttpMethod method, string path, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
        {
            using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
            if (body is not null)
            {
                var json = JsonSerializer.Serialize(body);
                SentBodies.Add(json);
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            using var response = await http.SendAsync(request, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
            return text.Length == 0 ? default : JsonSerializer.Deserialize<JsonElement>(text);
        }

        public void Dispose() => http.Dispose();
    }
}

/// <summary>What <see cref="RunAccounts.ProvisionAsync"/> sets up: the partner, its admin, the client and its one site.</summary>
internal sealed record ClientPlan(string Partner, string AdminEmail, string AdminPassword, string Client, string OwnerEmail, string SiteId, string SiteName)
{
    /// <summary>The agency and bakery shop the invitation tests provision.</summary>
    public static readonly ClientPlan Baeckerei =
        new("Agency West", "lead@agency.example", "the agency lead's passphrase", "Bäckerei Ltd", "owner@baeckerei.example", "baeckerei", "Bäckerei");
}

/// <summary>A provisioned client: the partner admin's signed-in session, the provisioning answer and the site's three keys.</summary>
internal sealed record ProvisionedClient(RunAccounts.Session Agency, string PartnerId, JsonElement Client, string WriteKey, string ServerKey, string ReadKey)
    : IDisposable
{
    public void Dispose() => Agency.Dispose();
}
