using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;
using Insights.LoadGenerator.Demo;

namespace Insights.EndToEnd.Tests;

/// <summary>What a person who runs <c>scripts/run.sh --demo</c> finds: a month of data, companies, chats, orders, people on the site now, and a sign-in that works.</summary>
public sealed partial class RunScriptTests
{
    private static readonly string[] Models = ["last_chat", "first_chat", "linear", "time_decay", "chat_assisted", "during_chat"];

    /// <summary>
    /// Within a bounded time of the script saying it runs: the seeded demo site's reports show visitors over weeks, real
    /// companies, chats, orders and chat-attributed revenue under every model, goal completions and present visitors
    /// (a few, not the month's history); the printed sign-in signs in as the partner admin of the three demo clients,
    /// whose partner reports show revenue per client.
    /// </summary>
    private static async Task AssertDemoDataAsync(Uri query, TestProcess script)
    {
        var printed = DemoSignIn().Match(script.Output);
        Assert.True(printed.Success, $"no demo sign-in line in:\n{script.Output}");
        Assert.Matches(@"\[run\]   dashboard   http://127\.0\.0\.1:\d+/", script.Output);
        Assert.Matches(@"\[demo\] demo: history \[#{20}\] 100%", script.Output);

        using var reader = new HttpClient { BaseAddress = query, Timeout = TimeSpan.FromSeconds(30) };
        reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SystemFixture.ReadKey);
        var now = DateTime.UtcNow;
        var month = $"from={now.AddDays(-30):yyyy-MM-dd}&to={now.AddDays(1):yyyy-MM-dd}";
        var problems = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        do
        {
            problems.Clear();
            var stats = await GetJsonAsync(reader, $"/v1/sites/demo/stats?{month}&interval=day");
            var days = stats.GetProperty("series").EnumerateArray().Count(b => b.GetProperty("views").GetInt64() > 0);
            Check(days >= 25, $"page views on {days} of the last 30 days");
            Check(stats.GetProperty("visitors").GetInt64() >= 500, $"{stats.GetProperty("visitors")} visitors in 30 days");

            var companies = (await GetJsonAsync(reader, $"/v1/sites/demo/companies?{month}&limit=50")).GetProperty("companies").EnumerateArray()
                .Select(c => c.GetProperty("name").GetString()!).ToList();
            Check(companies.Count >= 5 && companies.All(c => DemoNetworks.Companies.Any(n => n.Holder == c)),
                $"companies: {string.Join(", ", companies)}");

            foreach (var model in Models)
            {
                var sales = await GetJsonAsync(reader, $"/v1/sites/demo/sales?{month}&model={model}");
                Check(sales.GetProperty("orders").GetInt64() >= 20 && sales.GetProperty("chatAttributedRevenue").GetDecimal() > 0,
                    $"{model}: {sales.GetProperty("orders")} orders, {sales.GetProperty("chatAttributedRevenue")} chat-attributed");
            }

            var goals = (await GetJsonAsync(reader, $"/v1/sites/demo/goals?{month}")).GetProperty("goals").EnumerateArray()
                .ToDictionary(g => g.GetProperty("id").GetString()!, g => g.GetProperty("completions").GetInt64());
            Check(new[] { "pricing", "signup", "chat", "purchase" }.All(g => goals.GetValueOrDefault(g) > 0),
                $"goals: {string.Join(", ", goals.Select(g => $"{g.Key} {g.Value}"))}");

            var live = await GetJsonAsync(reader, "/v1/sites/demo/live");
            var present = live.GetProperty("visitors").EnumerateArray().ToList();
            Check(present.Count is > 0 and < 100, $"{present.Count} visitors present (the month's history must not count as now)");
            Check(present.Any(v => v.GetProperty("company").ValueKind == JsonValueKind.Object), "no present visitor from a company");

            if (problems.Count == 0)
            {
                break;
            }

            await Task.Delay(2000, Ct);
        }
        while (DateTime.UtcNow < deadline);

        Assert.True(problems.Count == 0, $"the demo's data is incomplete after 120 s: {string.Join("; ", problems)}\n{script.Output}");

        // The printed sign-in, as a person types it.
        using var person = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = query, Timeout = TimeSpan.FromSeconds(30) };
        using (var wrong = await person.PostAsJsonAsync(new Uri("/v1/auth/sign-in", UriKind.Relative), new { email = printed.Groups["email"].Value, password = "not the printed one" }, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using (var signedIn = await person.PostAsJsonAsync(new Uri("/v1/auth/sign-in", UriKind.Relative),
            new { email = printed.Groups["email"].Value, password = printed.Groups["password"].Value }, Ct))
        {
            Assert.True(signedIn.IsSuccessStatusCode, $"{signedIn.StatusCode}: {await signedIn.Content.ReadAsStringAsync(Ct)}");
        }

        var me = await GetJsonAsync(person, "/v1/me");
        var partner = me.GetProperty("memberships").EnumerateArray()
            .Single(m => m.GetProperty("scope").GetString() == "partner" && m.GetProperty("role").GetString() == "partner_admin")
            .GetProperty("scopeId").GetString();
        Assert.Equal(DemoSite.Clients.Select(c => c.Id).Order(), me.GetProperty("sites").EnumerateArray().Select(s => s.GetProperty("id").GetString()).Order());

        var revenue = await GetJsonAsync(person, $"/v1/partners/{partner}/revenue?{month}");
        var clients = revenue.GetProperty("clients").EnumerateArray().ToList();
        Assert.Equal(3, clients.Count);
        Assert.All(clients, c => Assert.True(c.GetProperty("revenue").EnumerateArray().Sum(r => r.GetProperty("chatAttributedRevenue").GetDecimal()) > 0,
            $"{c.GetProperty("name")} shows no chat-attributed revenue"));

        void Check(bool condition, string problem)
        {
            if (!condition)
            {
                problems.Add(problem);
            }
        }
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonSerializer.Deserialize<JsonElement>(body);
    }

    // e.g. "[run]   demo sign-in  demo@insights.example / demo-ynvyn84D6zjd85GS   (partner admin of three demo clients; …)"
    [GeneratedRegex(@"^\[run\]   demo sign-in  (?<email>\S+@\S+) / (?<password>\S+)   ", RegexOptions.Multiline)]
    private static partial Regex DemoSignIn();
}
