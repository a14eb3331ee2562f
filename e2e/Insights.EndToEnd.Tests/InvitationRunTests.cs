using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;
using Microsoft.Playwright;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// The visitor side of invitations through <c>scripts/run.sh</c>: a Chromium page with <c>t.js</c> and <c>invite.js</c>
/// from the running ingest opens its invitation channel on the running query API, and what it reports (an exit intent)
/// goes through the processors into ClickHouse and out of the visitor report; the channel refuses hostile requests as
/// documented. (Delivering an invitation needs something that offers one in the query API process: the invitation
/// rules or the agents' invite endpoint, added with them.)
/// </summary>
public sealed partial class InvitationRunTests
{
    private const string PersonsChrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_page_with_t_js_and_invite_js_opens_its_channel_and_its_exit_intent_reaches_the_visitor_report()
    {
        var ports = TestProcess.FreePorts(3);
        var state = Directory.CreateTempSubdirectory("insights-invite-");
        var ingest = $"http://127.0.0.1:{ports[0]}";
        var query = $"http://127.0.0.1:{ports[1]}";
        try
        {
            await using var script = RunScript.Start(RunScript.Environment(ports, state.FullName));
            await script.WaitForLineAsync(RunningLine(), TimeSpan.FromSeconds(150));
            var channel = $"{query}/v1/sites/{SystemFixture.Site}/visitor/invitations";

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = "/usr/bin/chromium",
                Headless = true,
                Args = ["--disable-gpu", "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--no-sandbox"],
            });
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { UserAgent = PersonsChrome });
            var page = await context.NewPageAsync();
            await page.RouteAsync(ingest + "/shop/pricing", route => route.FulfillAsync(new RouteFulfillOptions
            {
                ContentType = "text/html",
                Body = $"""
                    <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pricing</title>
                    <script defer data-site-key="{SystemFixture.WriteKey}" src="/t.js"></script>
                    <script async data-site-key="{SystemFixture.WriteKey}" data-channel="{channel}" src="/invite.js"></script>
                    </head><body><main><h1>Pricing</h1></main></body></html>
                    """,
            }));

            var opened = page.WaitForResponseAsync(r => r.Url.StartsWith(channel, StringComparison.Ordinal), new() { Timeout = 60_000 });
            await page.GotoAsync(ingest + "/shop/pricing");
            Assert.Equal(200, (await opened).Status);
            var id = await page.EvaluateAsync<string>("() => window.insights.visitorId()");
            Assert.Matches("^[0-9a-z]{4,28}$", id);

            await page.EvaluateAsync("() => document.dispatchEvent(new MouseEvent('mouseout', { clientX: 10, clientY: -1, relatedTarget: null, bubbles: true }))");
            await page.GotoAsync("about:blank");

            using var http = new HttpClient { BaseAddress = new Uri(query), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SystemFixture.ReadKey);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            string[] names = [];
            while (!names.Contains("exit_intent"))
            {
                Assert.True(DateTime.UtcNow < deadline, $"no exit_intent in the visitor report (saw {string.Join(", ", names)}):\n{script.Output}");
                await Task.Delay(500, Ct);
                using var response = await http.GetAsync(new Uri($"/v1/sites/{SystemFixture.Site}/visitors/{id}", UriKind.Relative), Ct);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var report = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
                    names = [.. report.GetProperty("events").EnumerateArray().Select(e => e.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "")];
                }
            }

            // Hostile requests to the running query API get the documented answers.
            using var anonymous = new HttpClient { BaseAddress = new Uri(query), Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal("secret_key_in_url", await RefusedAsync(anonymous, $"?key={SystemFixture.ReadKey}", "1,2,3,4,5,6,7,8", HttpStatusCode.Unauthorized));
            Assert.Equal("invalid_secret", await RefusedAsync(anonymous, $"?key={SystemFixture.WriteKey}", id, HttpStatusCode.BadRequest));
            Assert.Equal("body_too_large", await RefusedAsync(anonymous, $"?key={SystemFixture.WriteKey}", new string('9', 100_000), HttpStatusCode.RequestEntityTooLarge));
        }
        finally
        {
            state.Delete(recursive: true);
        }
    }

    private static async Task<string> RefusedAsync(HttpClient http, string query, string body, HttpStatusCode status)
    {
        using var content = new StringContent(body, Encoding.UTF8, "text/plain");
        using var response = await http.PostAsync(new Uri($"/v1/sites/{SystemFixture.Site}/visitor/invitations{query}", UriKind.Relative), content, Ct);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(status, response.StatusCode);
        return problem.GetProperty("reason").GetString()!;
    }

    [GeneratedRegex(@"^\[run\] Insights is running:")]
    private static partial Regex RunningLine();
}
