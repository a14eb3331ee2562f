using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Insights.DevStack.Testing;
using Microsoft.EntityFrameworkCore;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// Alerts through <c>scripts/run.sh</c>: a site configured (through the environment, as a deployment would) with a
/// target-account list and a webhook rule; a visitor from a target company's network views pages; a receiver on this
/// machine gets one alert, signed as docs/alerts.md says, and the delivery log in the control plane shows it delivered.
/// </summary>
public sealed partial class AlertsRunTests
{
    private const string Secret = "iws_e2e-alert-signing-secret-0001";
    private const string UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_target_account_visitors_page_views_make_a_local_receiver_get_one_signed_alert()
    {
        // ingest, query API, processors, dashboards, and the alert receiver's port.
        await using var system = await RunningSystem.StartAsync("alerts", ports: 5, configure: (environment, ports) =>
        {
            // The demo site (Sites:0 of the demo seed) gets a target account and a rule; Acme's network is a company range.
            environment["Enrichment__CompanyRanges__0__Cidr"] = "198.51.100.0/24";
            environment["Enrichment__CompanyRanges__0__Company"] = "Acme Corp";
            environment["Enrichment__CompanyRanges__0__Domain"] = "acme.example";
            environment["Sites__0__TargetAccounts__0"] = "acme.example";
            environment["Sites__0__Alerts__0__Id"] = "target";
            environment["Sites__0__Alerts__0__Name"] = "Target account on site";
            environment["Sites__0__Alerts__0__Kind"] = "target_account";
            environment["Sites__0__Alerts__0__Destinations__0__Id"] = "hook";
            environment["Sites__0__Alerts__0__Destinations__0__Kind"] = "webhook";
            environment["Sites__0__Alerts__0__Destinations__0__Url"] = $"http://127.0.0.1:{ports[4]}/alerts";
            environment["Sites__0__Alerts__0__Destinations__0__Secret"] = Secret;
        });
        var (ingest, script) = (system.Ingest, system.Script);
        using var receiver = new HttpListener { Prefixes = { $"http://127.0.0.1:{system.Ports[4]}/" } };
        receiver.Start();
        var visitor = $"alert-{Guid.NewGuid():N}";
        var stranger = $"stranger-{Guid.NewGuid():N}";

        // Presence may still be starting when the first views arrive: keep viewing pages until an alert comes.
        var received = ReceiveAsync(receiver);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        for (var i = 0; !received.IsCompleted; i++)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no alert within 90 s:\n{script.Output}");
            await SendViewAsync(ingest, stranger, "203.0.113.9", $"/blog/{i}");
            await SendViewAsync(ingest, visitor, "198.51.100.7", i % 2 == 0 ? "/pricing" : "/docs");
            await Task.WhenAny(received, Task.Delay(1000, Ct));
        }

        var (headers, body) = await received;
        var signature = headers["X-Insights-Signature"] ?? "";
        Assert.Matches(SignatureHeader(), signature);
        var t = signature[2..signature.IndexOf(',', StringComparison.Ordinal)];
        byte[] signed = [.. Encoding.ASCII.GetBytes(t + "."), .. body];
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), signed));
        Assert.Equal(expected, signature[(signature.IndexOf("v1=", StringComparison.Ordinal) + 3)..]);
        Assert.True(Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(t, CultureInfo.InvariantCulture)) < 300);

        var alert = JsonDocument.Parse(body).RootElement;
        Assert.Equal(("alert", "demo", "target"), (alert.GetProperty("type").GetString(), alert.GetProperty("site").GetString(),
            alert.GetProperty("rule").GetProperty("id").GetString()));
        Assert.Equal(visitor, alert.GetProperty("visitor").GetProperty("visitorId").GetString());
        Assert.Equal("acme.example", alert.GetProperty("visitor").GetProperty("company").GetProperty("domain").GetString());
        Assert.Equal(alert.GetProperty("id").GetString(), headers["X-Insights-Alert"]);

        // More page views in the same visit, and the stranger's: no second alert.
        await SendViewAsync(ingest, visitor, "198.51.100.7", "/checkout");
        var again = ReceiveAsync(receiver);
        Assert.NotSame(again, await Task.WhenAny(again, Task.Delay(3000, Ct)));

        // The delivery log, in the control plane run.sh uses.
        var factory = ControlPlaneDbFactory.For(ControlPlaneProvider.Sqlite, $"Data Source={Path.Combine(system.State, "control-plane", "control-plane.db")}");
        await using var db = await factory.CreateDbContextAsync(Ct);
        var delivery = await db.AlertDeliveries.AsNoTracking().SingleAsync(Ct);
        Assert.Equal((AlertDeliveryStatus.Delivered, 1, 200), (delivery.Status, delivery.Attempts, delivery.LastStatusCode));

        Assert.Equal(0, await script.StopAsync(TimeSpan.FromSeconds(60), StopSignal.Interrupt));
    }

    private static async Task<(WebHeaderCollection Headers, byte[] Body)> ReceiveAsync(HttpListener receiver)
    {
        var context = await receiver.GetContextAsync();
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body, Ct);
        var headers = new WebHeaderCollection { context.Request.Headers };
        context.Response.StatusCode = 200;
        context.Response.Close();
        return (headers, body.ToArray());
    }

    private static async Task SendViewAsync(Uri ingest, string visitor, string ip, string path)
    {
        using var http = new HttpClient { BaseAddress = ingest, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Insights-Key", SystemFixture.ServerKey);
        var body = JsonSerializer.Serialize(new
        {
            type = "pageview",
            messageId = Guid.NewGuid().ToString(),
            anonymousId = visitor,
            context = new { ip, userAgent = UserAgent, page = new { url = $"https://shop.example{path}", path, title = "Alerts E2E" } },
        });
        using var response = await http.PostAsync(new Uri("/v1/events", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [GeneratedRegex("^t=[0-9]+,v1=[0-9a-f]{64}$")]
    private static partial Regex SignatureHeader();
}
