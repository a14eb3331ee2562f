using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Insights.DevStack.Testing;
using Insights.Ingest.Tests.Integration;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// Issue 13 §1 through <c>scripts/run.sh</c>, as a site that already runs Segment-compatible SDKs meets it: a partner
/// provisions a client, the client points the real <c>@segment/analytics-node</c> (browser side, write key) and
/// <c>@rudderstack/rudder-sdk-node</c> (back end, server key, gzip) at ingest with only the host changed, and the
/// query API reports what they sent: the named page with its category, the visitor's own company from the back end's group call in
/// the company list, and the order's path reaching the anonymous visit through alias.
/// </summary>
public sealed class SegmentRunTests(ITestOutputHelper output)
{
    private const string Site = "konditorei";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Segment_and_RudderStack_sdks_pointed_at_ingest_show_up_in_the_query_apis_pages_company_visitor_and_order_reports()
    {
        await using var system = await RunningSystem.StartAsync("segment");
        var (ingest, query, environment) = (system.Ingest, system.Query, system.Environment);
        using var client = await RunAccounts.ProvisionAsync(environment, query,
            new ClientPlan("Agency Süd", "lead@agency-sued.example", "the agency lead's passphrase", "Konditorei GmbH", "owner@konditorei.example", Site, "Konditorei"));
        using var sender = new SegmentSender(ingest);

        // Ingest takes the new site's keys within its catalog refresh (a custom event: no page in the reports).
        await sender.EventuallyAcceptedAsync(client.WriteKey);
        await sender.EventuallyAcceptedAsync(client.ServerKey);

        // Hostile first: nothing here may reach a report. A public write key cannot send an order (or anything for
        // another site: the key decides the site), a read key cannot send at all, bad JSON and cut-off gzip are 400.
        var run = Guid.NewGuid().ToString("N")[..8];
        var forged = $$"""{"batch":[{"type":"order","orderId":"forged-{{run}}","userId":"user-{{run}}","total":1,"currency":"EUR","site":"another-site"}]}""";
        Assert.Equal((400, "needs_server_key"), await sender.PostAsync("/v1/batch", client.WriteKey, forged));
        Assert.Equal((403, "key_cannot_write"), await sender.PostAsync("/v1/track", client.ReadKey, """{"anonymousId":"x","event":"X"}"""));
        Assert.Equal((401, "unknown_key"), await sender.PostAsync("/v1/track", "wk_not-a-key-of-anyone", """{"anonymousId":"x","event":"X"}"""));
        Assert.Equal((400, "malformed_json"), await sender.PostAsync("/v1/batch", client.WriteKey, """{"batch":[{"type":"track",]}"""));
        var whole = Gzip($$"""{"batch":[{"type":"track","messageId":"cut-{{run}}","anonymousId":"cut-{{run}}","event":"Cut"}]}""");
        // A gzip body cut off mid-stream inflates to the JSON's first half: refused as the JSON it then is.
        Assert.Equal((400, "malformed_json"), await sender.PostAsync("/v1/batch", client.ServerKey, whole[..(whole.Length / 2)], gzip: true));

        // The journey, through the SDKs themselves; then the shop's order, with the server key as Basic auth user.
        var printed = await SegmentSdks.RunAsync("journey.cjs", ingest.ToString().TrimEnd('/'), client.WriteKey, client.ServerKey, run);
        output.WriteLine(printed);
        Assert.DoesNotContain("\"error\"", printed, StringComparison.Ordinal);
        var order = $$"""{"batch":[{"type":"order","messageId":"order-{{run}}","orderId":"o-{{run}}","userId":"user-{{run}}","total":120,"currency":"EUR"}]}""";
        Assert.Equal((200, "success"), await sender.PostAsync("/v1/batch", client.ServerKey, order));

        using var reports = new HttpClient { BaseAddress = query, Timeout = TimeSpan.FromSeconds(30) };
        reports.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", client.ReadKey);

        // The pages report: the server-side named pages by their paths, counted once each.
        var stats = await EventuallyAsync(reports, $"/v1/sites/{Site}/stats", s =>
            s.GetProperty("topPages").EnumerateArray().Count(p => p.GetProperty("path").GetString() is "/pricing" or "/checkout") == 2);
        var pages = stats.GetProperty("topPages").EnumerateArray().ToDictionary(p => p.GetProperty("path").GetString()!, p => p.GetProperty("views").GetInt64());
        Assert.Equal((1, 1), (pages["/pricing"], pages["/checkout"]));

        // The visitor's profile: the page's name and category, the screen's, the custom event; the declared company.
        var visitor = await EventuallyAsync(reports, $"/v1/sites/{Site}/visitors/anon-{run}", v =>
            v.GetProperty("events").GetArrayLength() >= 4 && v.GetProperty("company").ValueKind == JsonValueKind.Object);
        var events = visitor.GetProperty("events").EnumerateArray().ToList();
        var page = events.Single(e => e.GetProperty("type").GetString() == "pageview");
        Assert.Equal(("Pricing", "Docs", "/pricing"), (page.GetProperty("name").GetString(), page.GetProperty("category").GetString(), page.GetProperty("path").GetString()));
        var screen = events.Single(e => e.GetProperty("type").GetString() == "screen");
        Assert.Equal(("Settings", "Account"), (screen.GetProperty("name").GetString(), screen.GetProperty("category").GetString()));
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "track" && e.GetProperty("name").GetString() == "Trial Started");
        Assert.Equal(($"Acme Bäckerei {run}", "acme-baeckerei.example"),
            (visitor.GetProperty("company").GetProperty("name").GetString(), visitor.GetProperty("company").GetProperty("domain").GetString()));

        // The company list: the group call's account is a company of the site, with the visitor's visit.
        var companies = await EventuallyAsync(reports, $"/v1/sites/{Site}/companies", c =>
            c.GetProperty("companies").EnumerateArray().Any(x => x.GetProperty("name").GetString() == $"Acme Bäckerei {run}"));
        var acme = companies.GetProperty("companies").EnumerateArray().Single(x => x.GetProperty("name").GetString() == $"Acme Bäckerei {run}");
        Assert.Equal(("acme-baeckerei.example", 1L, 1L), (acme.GetProperty("domain").GetString(), acme.GetProperty("visitors").GetInt64(), acme.GetProperty("visits").GetInt64()));
        Assert.DoesNotContain(companies.GetProperty("companies").EnumerateArray(), x => x.GetProperty("name").GetString()!.Contains("forged", StringComparison.Ordinal));
        // The page's own group call (public write key) named no company.
        Assert.DoesNotContain(companies.GetProperty("companies").EnumerateArray(), x => x.GetProperty("name").GetString()!.StartsWith("Claimed", StringComparison.Ordinal));

        // Alias joined the anonymous visitor and the user the back end knows: the order's path is one person's,
        // and reaches the pricing page seen before signing up. The forged order does not exist.
        var path = await EventuallyAsync(reports, $"/v1/sites/{Site}/orders/o-{run}", o =>
            o.GetProperty("ids").EnumerateArray().Any(i => i.GetProperty("kind").GetString() == "anonymous"));
        var ids = path.GetProperty("ids").EnumerateArray().Select(i => (i.GetProperty("kind").GetString(), i.GetProperty("id").GetString())).ToList();
        Assert.Contains(("anonymous", $"anon-{run}"), ids);
        Assert.Contains(("user", $"user-{run}"), ids);
        Assert.Contains(path.GetProperty("sessions").EnumerateArray().SelectMany(s => s.GetProperty("pages").EnumerateArray()),
            p => p.GetProperty("path").GetString() == "/pricing");
        using var forgedOrder = await reports.GetAsync(new Uri($"/v1/sites/{Site}/orders/forged-{run}", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NotFound, forgedOrder.StatusCode);
    }

    private static byte[] Gzip(string json)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(Encoding.UTF8.GetBytes(json));
        }

        return output.ToArray();
    }

    /// <summary>Polls a report until <paramref name="ready"/> holds (the processors write in batches); fails with the last answer.</summary>
    private static async Task<JsonElement> EventuallyAsync(HttpClient reports, string path, Func<JsonElement, bool> ready)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await reports.GetAsync(new Uri(path, UriKind.Relative), Ct);
            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}";
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var body = JsonDocument.Parse(last[4..]).RootElement.Clone();
                if (ready(body))
                {
                    return body;
                }
            }

            await Task.Delay(500, Ct);
        }

        Assert.Fail($"GET {path} never showed what the SDKs sent; the last answer: {last}");
        throw new InvalidOperationException();
    }

    /// <summary>Posts to Segment's routes as its SDKs do: the key as the Basic auth user name.</summary>
    private sealed class SegmentSender(Uri ingest) : IDisposable
    {
        private readonly HttpClient http = new() { BaseAddress = ingest, Timeout = TimeSpan.FromSeconds(30) };

        public async Task EventuallyAcceptedAsync(string key)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await PostAsync("/v1/track", key, $$"""{"anonymousId":"warm-{{Guid.NewGuid():N}}","event":"Warm-up"}""")).Status != 200)
            {
                Assert.True(DateTime.UtcNow < deadline, "ingest does not take the new site's key");
                await Task.Delay(250, Ct);
            }
        }

        public async Task<(int Status, string Reason)> PostAsync(string path, string key, string json) =>
            await PostAsync(path, key, Encoding.UTF8.GetBytes(json), gzip: false);

        /// <summary>The status and the problem's reason ("success" for Segment's 200 <c>{"success": true}</c>).</summary>
        public async Task<(int Status, string Reason)> PostAsync(string path, string key, byte[] body, bool gzip)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            if (gzip)
            {
                request.Content.Headers.ContentEncoding.Add("gzip");
            }

            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":")));
            using var response = await http.SendAsync(request, Ct);
            var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
            return ((int)response.StatusCode, answer.TryGetProperty("success", out var success) && success.GetBoolean()
                ? "success"
                : answer.TryGetProperty("reason", out var reason) ? reason.GetString() ?? "" : "");
        }

        public void Dispose() => http.Dispose();
    }
}
