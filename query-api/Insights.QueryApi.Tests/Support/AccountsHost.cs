using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.ControlPlane.Store;
using Insights.DevStack.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Insights.QueryApi.Tests.Support;

/// <summary>
/// The real query API with its own control-plane SQLite file (a fresh folder per host) and a migrated ClickHouse
/// database: people sign in over HTTP with real cookies. Arrangement (partners, people, memberships) goes straight to
/// the store through the host's own services; everything under test goes over HTTP.
/// </summary>
public sealed class AccountsHost(DevStackFixture stack) : IAsyncLifetime
{
    public const string Password = "correct horse battery staple";

    public EventsDatabase Database { get; private set; } = null!;

    public QueryApiFactory Api { get; private set; } = null!;

    public IDbContextFactory<ControlPlaneDb> Store => Api.Services.GetRequiredService<IDbContextFactory<ControlPlaneDb>>();

    public SiteAdmin Sites => Api.Services.GetRequiredService<SiteAdmin>();

    public async ValueTask InitializeAsync()
    {
        Database = await EventsDatabase.CreateMigratedAsync(stack);
        Api = Database.StartApi();
        _ = Api.Server; // start the host: migrations and seeding run before the first request
    }

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        Database.Dispose();
    }

    /// <summary>A browser: its own cookie jar, https (the session cookie is Secure), no redirects followed.</summary>
    public Browser NewBrowser() => new(Api.CreateClient(new WebApplicationFactoryClientOptions
    {
        BaseAddress = new Uri("https://localhost"),
        AllowAutoRedirect = false,
        HandleCookies = true,
    }));

    /// <summary>Waits until the host's live catalog has the sites (the directory polls the store every second).</summary>
    public async Task CatalogHasAsync(params string[] siteIds)
    {
        var catalog = Api.Services.GetRequiredService<Insights.Contracts.SiteCatalog>();
        for (var attempt = 0; siteIds.Any(id => catalog.FindById(id) is null); attempt++)
        {
            Assert.True(attempt < 100, $"the catalog still lacks one of {string.Join(", ", siteIds)} after 10 s");
            await Task.Delay(100, Http.Ct);
        }
    }

    public async Task<Guid> PartnerAsync(string name)
    {
        await using var db = await Store.CreateDbContextAsync(Http.Ct);
        var partner = new Partner { Id = Guid.NewGuid(), Name = name, CreatedAt = DateTimeOffset.UtcNow };
        db.Partners.Add(partner);
        await db.SaveChangesAsync(Http.Ct);
        return partner.Id;
    }

    /// <summary>A person with <see cref="Password"/> (or none) and the given roles.</summary>
    public Task<Guid> PersonAsync(string email, bool withPassword = true, params (ScopeKind Scope, string Id, Role Role)[] roles) =>
        PersonAsync(Api.Services, email, withPassword, roles);

    public Task<string> TokenAsync(Guid personId) => TokenAsync(Api.Services, personId);

    /// <summary>A person in any host's store (one started with its own settings).</summary>
    public static async Task<Guid> PersonAsync(IServiceProvider services, string email, bool withPassword = true, params (ScopeKind Scope, string Id, Role Role)[] roles)
    {
        var hasher = services.GetRequiredService<IPasswordHasher<Person>>();
        await using var db = await services.GetRequiredService<IDbContextFactory<ControlPlaneDb>>().CreateDbContextAsync(Http.Ct);
        var person = new Person
        {
            Id = Guid.NewGuid(),
            Email = email,
            NormalizedEmail = Emails.Normalize(email)!,
            SecurityStamp = Guid.NewGuid().ToString("N"),
            CreatedAt = DateTimeOffset.UtcNow,
        };
        person.PasswordHash = withPassword ? hasher.HashPassword(person, Password) : null;
        db.People.Add(person);
        foreach (var (scope, id, role) in roles)
        {
            db.Memberships.Add(new Membership { Id = Guid.NewGuid(), PersonId = person.Id, ScopeKind = scope, ScopeId = id, Role = role, CreatedAt = DateTimeOffset.UtcNow });
        }

        await db.SaveChangesAsync(Http.Ct);
        return person.Id;
    }

    public static async Task<string> TokenAsync(IServiceProvider services, Guid personId)
    {
        var created = await services.GetRequiredService<ApiTokens>().CreateAsync(personId, "test", null, Http.Ct);
        return created!.Value.Token;
    }

    public async Task<IReadOnlyList<OutboxMail>> OutboxAsync(string to)
    {
        await using var db = await Store.CreateDbContextAsync(Http.Ct);
        var all = await db.Outbox.AsNoTracking().ToListAsync(Http.Ct);
        return [.. all.Where(m => string.Equals(m.To, to, StringComparison.OrdinalIgnoreCase)).OrderBy(m => m.Id)];
    }

    /// <summary>The last link of the given path in the newest mail to <paramref name="to"/>.</summary>
    public async Task<string> LinkInMailAsync(string to, string path)
    {
        var mail = (await OutboxAsync(to)).LastOrDefault() ?? throw new InvalidOperationException($"no mail to {to}");
        var start = mail.TextBody.IndexOf(path, StringComparison.Ordinal);
        Assert.True(start >= 0, $"no {path} link in: {mail.TextBody}");
        var end = mail.TextBody.IndexOfAny([' ', '\n', '\r'], start);
        return mail.TextBody[(start + path.Length)..(end < 0 ? mail.TextBody.Length : end)];
    }
}

/// <summary>An HTTP client that keeps cookies like a browser, and sends the CSRF header once it fetched the token.</summary>
public sealed class Browser(HttpClient client) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public HttpClient Client { get; } = client;

    public List<string> SentBodies { get; } = [];

    public async Task<HttpResponseMessage> SignInAsync(string email, string password = AccountsHost.Password) =>
        await SendAsync(HttpMethod.Post, "/v1/auth/sign-in", new { email, password });

    /// <summary>Fetches the antiforgery token (after signing in: it is bound to the person) and sends it from now on.</summary>
    public async Task CsrfAsync()
    {
        using var response = await Client.GetAsync("/v1/auth/csrf", Http.Ct);
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>(Http.Ct)).GetProperty("token").GetString();
        Client.DefaultRequestHeaders.Remove("X-CSRF-Token");
        Client.DefaultRequestHeaders.Add("X-CSRF-Token", token);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, object? body = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            var text = body as string ?? JsonSerializer.Serialize(body, Json);
            SentBodies.Add(text);
            request.Content = new StringContent(text, System.Text.Encoding.UTF8, "application/json");
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        return await Client.SendAsync(request, Http.Ct);
    }

    public async Task<JsonElement> JsonAsync(HttpMethod method, string url, object? body = null, HttpStatusCode expected = HttpStatusCode.OK, string? bearer = null)
    {
        using var response = await SendAsync(method, url, body, bearer);
        var text = await response.Content.ReadAsStringAsync(Http.Ct);
        Assert.True(response.StatusCode == expected, $"{method} {url}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonSerializer.Deserialize<JsonElement>(text);
    }

    public void Dispose() => Client.Dispose();
}
