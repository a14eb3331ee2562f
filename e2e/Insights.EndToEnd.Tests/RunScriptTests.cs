using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// The README's own command, <c>scripts/run.sh --demo</c>, run as a user runs it: from the repository root, the
/// script's own process tree, settings from the services' files plus the environment, stopped with Ctrl-C. Only the
/// ports and the state directory differ (through the script's environment variables), so it can run beside other tests.
/// </summary>
public sealed partial class RunScriptTests
{
    // A per-site secret a deployment sets through the environment; Sites:0 is the demo site of the demo seed (control-plane/demo/demo-sites.json).
    private const string LiveChatSecret = "livechat-secret-set-in-the-environment";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_sh_demo_fills_a_month_of_reports_and_live_prints_a_working_sign_in_takes_a_webhook_secret_from_the_environment_and_stops_on_ctrl_c()
    {
        await using var system = await RunningSystem.StartAsync("run", configure: (environment, _) => environment["Sites__0__LiveChatWebhookSecret"] = LiveChatSecret,
            arguments: "--demo");
        var (ports, ingest, query, processors, script) = (system.Ports, system.Ingest, system.Query, system.Processors, system.Script);
        Assert.Contains("Skipping the build", script.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Restoring and building", script.Output, StringComparison.Ordinal);

        // (b) The secret set through the environment reached ingest, and the processors started with it.
        using (var http = new HttpClient { BaseAddress = ingest, Timeout = TimeSpan.FromSeconds(30) })
        {
            using var accepted = await PostJsonAsync(http, "/v1/webhooks/livechat/demo", LiveChatIncomingChat(LiveChatSecret));
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"{accepted.StatusCode}: {await accepted.Content.ReadAsStringAsync(Ct)}");
            Assert.True((await accepted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("accepted").GetInt32() >= 1);

            using var refused = await PostJsonAsync(http, "/v1/webhooks/livechat/demo", LiveChatIncomingChat("another-secret-of-sixteen-or-more"));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("invalid_secret", (await refused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("reason").GetString());
        }

        using (var http = new HttpClient { BaseAddress = processors, Timeout = TimeSpan.FromSeconds(30) })
        {
            using var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative), Ct);
            Assert.True(ready.IsSuccessStatusCode, $"the processors are not ready:\n{script.Output}");
        }

        // (a) The demo's goals complete: the processors read the demo site's goals from their own settings file.
        var goals = await WaitForGoalsAsync(query, "pricing", script);
        Assert.True(goals["pricing"] > 0);

        // (c) The demo prints what the query API counts, not "not answering yet".
        var line = await script.WaitForLineAsync(DemoNumbers(), TimeSpan.FromSeconds(60));
        Assert.DoesNotContain("not answering yet", line, StringComparison.Ordinal);

        // (d) A month of lifelike data, people on the site now, and the printed demo sign-in.
        await AssertDemoDataAsync(query, script);

        // Ctrl-C: the script stops every process it started and says so.
        var started = script.Descendants();
        Assert.True(started.Count >= 5, $"expected the dev stack, three services and the demo under the script, found {started.Count}");
        var exitCode = await script.StopAsync(TimeSpan.FromSeconds(60), StopSignal.Interrupt);
        Assert.Equal(0, exitCode);
        Assert.Contains("[run] stopped", script.Output, StringComparison.Ordinal);
        await AssertGoneAsync(started, TimeSpan.FromSeconds(10));
        foreach (var port in ports)
        {
            Assert.False(IsListening(port), $"port {port} is still open after the script stopped");
        }
    }

    private static async Task<Dictionary<string, long>> WaitForGoalsAsync(Uri query, string goal, TestProcess script)
    {
        using var http = new HttpClient { BaseAddress = query, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SystemFixture.ReadKey);
        var from = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var to = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var completions = new Dictionary<string, long>();
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.GetAsync(new Uri($"/v1/sites/demo/goals?from={from}&to={to}", UriKind.Relative), Ct);
            if (response.IsSuccessStatusCode)
            {
                var report = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
                completions = report.GetProperty("goals").EnumerateArray()
                    .ToDictionary(g => g.GetProperty("id").GetString()!, g => g.GetProperty("completions").GetInt64());
                if (completions.GetValueOrDefault(goal) > 0)
                {
                    return completions;
                }
            }

            await Task.Delay(1000, Ct);
        }

        Assert.Fail($"goal '{goal}' had no completion within 90 s ({string.Join(", ", completions.Select(c => $"{c.Key} {c.Value}"))}):\n{script.Output}");
        return completions;
    }

    private static async Task AssertGoneAsync(IReadOnlyList<(int Pid, string CommandLine)> processes, TimeSpan grace)
    {
        var deadline = DateTime.UtcNow + grace;
        IReadOnlyList<(int Pid, string CommandLine)> alive;
        do
        {
            // The same pid with the same command line: a recycled pid is another process.
            alive = processes.Where(p => TestProcess.CommandLine(p.Pid) == p.CommandLine).ToArray();
            if (alive.Count == 0)
            {
                return;
            }

            await Task.Delay(200, Ct);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"still running after the script stopped: {string.Join("; ", alive.Select(p => $"{p.Pid} {p.CommandLine}"))}");
    }

    private static async Task<HttpResponseMessage> PostJsonAsync(HttpClient http, string path, string json) =>
        await http.PostAsync(new Uri(path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"), Ct);

    /// <summary>LiveChat's incoming_chat webhook (v3.5 envelope): the secret travels in the body.</summary>
    private static string LiveChatIncomingChat(string secret)
    {
        var thread = "T" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();
        return JsonSerializer.Serialize(new
        {
            webhook_id = Guid.NewGuid().ToString("N"),
            secret_key = secret,
            action = "incoming_chat",
            organization_id = "e2e-organization",
            payload = new
            {
                chat = new
                {
                    id = "C" + thread,
                    thread = new { id = thread, created_at = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture), events = Array.Empty<object>() },
                    users = new object[] { new { id = Guid.NewGuid().ToString(), type = "customer" }, new { id = "anna@shop.example", type = "agent" } },
                },
            },
        });
    }

    private static bool IsListening(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // e.g. "[demo] demo: 27 events sent, ...; query API, last 24 h: 23 page views, 19 visitors; goals completed: pricing 2, ..."
    [GeneratedRegex(@"^\[demo\] demo: .*query API, last 24 h: [1-9][\d,]* page views, [1-9][\d,]* visitors; goals completed: pricing \d")]
    private static partial Regex DemoNumbers();
}
