using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Insights.LoadGenerator.Demo;

/// <summary>A provisioned demo site and the keys the partner API printed for it once.</summary>
public sealed record DemoSiteKeys(string Id, string WriteKey, string ServerKey, string ReadKey);

/// <summary>
/// The demo sign-in: the demo partner's admin (e-mail and the password generated for this state directory) and the
/// client sites provisioned for it. Kept in the state directory (owner-only file), so a restart signs in as before.
/// </summary>
public sealed record DemoAccount(string Email, string Password, string PartnerId, IReadOnlyList<DemoSiteKeys> Sites)
{
    public const string DemoEmail = "demo@insights.example";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static DemoAccount? Load(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<DemoAccount>(File.ReadAllText(path), Json) : null;

    /// <summary>
    /// Through the product's own paths: accept the partner admin's invitation (from <c>insights-admin init</c>) with a
    /// generated password, then provision each client (organisation, site, keys) through the partner API and give its
    /// site the demo's goals and currency rates through the settings API: what a real agency does on its first day.
    /// </summary>
    public static async Task<DemoAccount> ProvisionAsync(Uri query, string invitation, IReadOnlyList<DemoSite> clients, string path, CancellationToken cancellation)
    {
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = query, Timeout = TimeSpan.FromSeconds(30) };
        var password = NewPassword();
        await SendAsync(http, HttpMethod.Post, $"/v1/invitations/{Uri.EscapeDataString(invitation)}/accept",
            new { password, displayName = "Demo partner admin" }, cancellation);
        var me = await SendAsync(http, HttpMethod.Get, "/v1/me", null, cancellation);
        var partner = me.GetProperty("memberships").EnumerateArray()
            .First(m => m.GetProperty("scope").GetString() == "partner").GetProperty("scopeId").GetString()!;
        var csrf = await SendAsync(http, HttpMethod.Get, "/v1/auth/csrf", null, cancellation);
        http.DefaultRequestHeaders.Add(csrf.GetProperty("headerName").GetString()!, csrf.GetProperty("token").GetString());

        var sites = new List<DemoSiteKeys>();
        foreach (var client in clients)
        {
            var created = await SendAsync(http, HttpMethod.Post, $"/v1/partners/{partner}/clients",
                new { name = client.Client, ownerEmail = $"owner@{client.Host}", sites = new[] { new { id = client.Id, name = client.Name } } }, cancellation);
            var site = created.GetProperty("sites")[0];
            sites.Add(new DemoSiteKeys(site.GetProperty("id").GetString()!, site.GetProperty("writeKey").GetString()!,
                site.GetProperty("serverKey").GetString()!, site.GetProperty("readKey").GetString()!));
            await SendAsync(http, HttpMethod.Patch, $"/v1/sites/{client.Id}/settings", Settings(), cancellation);
            Console.WriteLine($"demo: provisioned client '{client.Client}' with site '{client.Id}'");
        }

        var account = new DemoAccount(DemoEmail, password, partner, sites);
        var file = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // the password and the sites' keys
        }

        await using (var writer = new StreamWriter(path, Encoding.UTF8, file))
        {
            await writer.WriteAsync(JsonSerializer.Serialize(account, Json));
        }

        return account;
    }

    /// <summary>Signs in as a person would (<c>POST /v1/auth/sign-in</c>): true when the password is taken.</summary>
    public async Task<bool> SignsInAsync(Uri query, CancellationToken cancellation)
    {
        using var http = new HttpClient { BaseAddress = query, Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.PostAsJsonAsync(new Uri("/v1/auth/sign-in", UriKind.Relative), new { email = Email, password = Password }, cancellation);
        return response.IsSuccessStatusCode;
    }

    /// <summary>The demo's goals (as the seeded demo site's in control-plane/demo/demo-sites.json) and currency rates.</summary>
    private static JsonObject Settings() => new()
    {
        ["reportingCurrency"] = "USD",
        ["currencyRates"] = new JsonObject { ["EUR"] = 1.08m, ["GBP"] = 1.27m },
        ["goals"] = new JsonArray(
            new JsonObject { ["id"] = "pricing", ["name"] = "Viewed pricing", ["kind"] = "page", ["urlPattern"] = "/pricing" },
            new JsonObject { ["id"] = "signup", ["name"] = "Signed up", ["kind"] = "event", ["eventName"] = "signup", ["value"] = 20 },
            new JsonObject { ["id"] = "chat", ["name"] = "Started a chat", ["kind"] = "chat_started" },
            new JsonObject { ["id"] = "purchase", ["name"] = "Placed an order", ["kind"] = "order_placed" }),
    };

    /// <summary>16 characters from an alphabet without look-alikes (and safe in a shell line), from a secure random source.</summary>
    private static string NewPassword()
    {
        const string alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return "demo-" + RandomNumberGenerator.GetString(alphabet, 16);
    }

    private static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, object? body, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }

        using var response = await http.SendAsync(request, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{method} {path} answered {(int)response.StatusCode}: {text}");
        }

        return text.Length == 0 ? default : JsonSerializer.Deserialize<JsonElement>(text);
    }
}
