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
/// documented. Delivery of an invitation to the page: <see cref="InvitationBrowserRunTests"/>.
/// </summary>
public sealed partial class InvitationVisitorRunTests
{
    internal const string PersonsChrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_page_with_t_js_and_invite_js_opens_its_channel_and_its_exit_intent_reaches_the_visitor_report()
    {
        await using var system = await RunningSystem.StartAsync("invite");
        var (ingest, query) = ($"http://127.0.0.1:{system.Ports[0]}", $"http://127.0.0.1:{system.Ports[1]}");
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
        // The shop's page from a server of its own on loopback, as a real site is served (a page Playwright fulfils
        // has no address, and Chromium keeps such pages from reaching loopback services).
        using var shop = ShopPage($"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pricing</title>
            <script defer data-site-key="{SystemFixture.WriteKey}" src="{ingest}/t.js"></script>
            <script async data-site-key="{SystemFixture.WriteKey}" data-channel="{channel}" src="{ingest}/invite.js"></script>
            </head><body><main><h1>Pricing</h1></main></body></html>
            """, out var shopUrl);

        // What the page did, for a failure to say.
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Console += (_, message) => seen.Enqueue($"console {message.Type}: {message.Text}");
        page.PageError += (_, error) => seen.Enqueue($"error: {error}");
        page.Request += (_, request) => seen.Enqueue($"{request.Method} {request.Url}");
        page.RequestFailed += (_, request) => seen.Enqueue($"failed {request.Url}: {request.Failure}");
        page.Response += (_, response) => seen.Enqueue($"{response.Status} {response.Url}");

        await page.GotoAsync(shopUrl);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!seen.Any(line => line.StartsWith("200 " + channel, StringComparison.Ordinal)))
        {
            var pageState = await page.EvaluateAsync<string>("() => JSON.stringify({ id: window.insights?.visitorId?.(), secret: !!localStorage.insights_vidk })");
            Assert.True(DateTime.UtcNow < deadline, $"the channel did not open; page {pageState}:\n{string.Join('\n', seen)}");
            await Task.Delay(250, Ct);
        }

        var id = await page.EvaluateAsync<string>("() => window.insights.visitorId()");
        Assert.Matches("^[0-9a-z]{4,28}$", id);

        await page.EvaluateAsync("() => document.dispatchEvent(new MouseEvent('mouseout', { clientX: 10, clientY: -1, relatedTarget: null, bubbles: true }))");

        using var http = new HttpClient { BaseAddress = new Uri(query), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SystemFixture.ReadKey);
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        string[] names = [];
        var last = "";
        while (!names.Contains("exit_intent"))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no exit_intent in the visitor report of {id} (last answer {last}); the page:\n{string.Join('\n', seen)}");
            await Task.Delay(1000, Ct);
            using var response = await http.GetAsync(new Uri($"/v1/sites/{SystemFixture.Site}/visitors/{id}", UriKind.Relative), Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            last = $"{(int)response.StatusCode} {text[Math.Max(0, text.IndexOf("\"events\"", StringComparison.Ordinal))..]}";
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

    /// <summary>Serves <paramref name="html"/> at the returned URL until disposed.</summary>
    internal static HttpListener ShopPage(string html, out string url)
    {
        var origin = $"http://127.0.0.1:{TestProcess.FreePorts(1)[0]}/";
        url = origin + "shop/pricing";
        return PageServer.Serve(origin, Encoding.UTF8.GetBytes(html));
    }

    private static async Task<string> RefusedAsync(HttpClient http, string query, string body, HttpStatusCode status)
    {
        using var content = new StringContent(body, Encoding.UTF8, "text/plain");
        using var response = await http.PostAsync(new Uri($"/v1/sites/{SystemFixture.Site}/visitor/invitations{query}", UriKind.Relative), content, Ct);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(status, response.StatusCode);
        return problem.GetProperty("reason").GetString()!;
    }
}
