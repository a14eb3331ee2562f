using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Insights.DevStack.Testing;
using Insights.EndToEnd.Tests;
using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>
/// A client's shop as its visitors meet it: a real page on its own origin with the install snippet — <c>t.js</c> and
/// <c>invite.js</c> from ingest, the invitation channel at the query API — served for any path, opened in a browser
/// profile of its own with a person's user agent (headless Chromium's own is a bot's, and bots are not visitors).
/// </summary>
public sealed class VisitorShop : IDisposable
{
    private readonly HttpListener listener;
    private readonly ConcurrentQueue<string> seen = new();

    public VisitorShop(DashboardSystem system, Client client)
    {
        Origin = new Uri($"http://127.0.0.1:{TestProcess.FreePorts(1)[0]}/");
        Channel = new Uri(system.Query, $"/v1/sites/{client.Site}/visitor/invitations").ToString();
        var html = Encoding.UTF8.GetBytes($"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>{client.SiteName}</title>
            <script defer data-site-key="{client.WriteKey}" src="{new Uri(system.Ingest, "/t.js")}"></script>
            <script async data-site-key="{client.WriteKey}" data-channel="{Channel}" src="{new Uri(system.Ingest, "/invite.js")}"></script>
            </head><body><main><h1>{client.SiteName}</h1><p>Prices, plans, a contact form.</p></main></body></html>
            """);
        listener = PageServer.Serve(Origin.ToString(), html);
    }

    public Uri Origin { get; }

    /// <summary>Where <c>invite.js</c> listens for invitations.</summary>
    public string Channel { get; }

    /// <summary>What the visitor's page did (console, errors, answers), for failure messages.</summary>
    public string Seen => string.Join('\n', seen);

    /// <summary>A visitor opening <paramref name="path"/> in a fresh profile; returns once its invitation channel is open.</summary>
    public async Task<(IPage Page, string VisitorId)> VisitAsync(IBrowser chromium, string path)
    {
        var context = await chromium.NewContextAsync(new BrowserNewContextOptions { UserAgent = Events.PersonsChrome });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        page.Console += (_, message) => seen.Enqueue($"console {message.Type}: {message.Text}");
        page.PageError += (_, error) => seen.Enqueue($"error: {error}");
        page.RequestFailed += (_, request) => seen.Enqueue($"failed {request.Url}: {request.Failure}");
        page.Response += (_, response) => seen.Enqueue($"{response.Status} {response.Url}");
        await page.GotoAsync(new Uri(Origin, path).ToString());

        // The page's channel is open once the query API answered it: from then on an invitation reaches the page.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!seen.Any(line => line.StartsWith("200 " + Channel, StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the visitor's invitation channel did not open:\n{Seen}");
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        return (page, await page.EvaluateAsync<string>("() => window.insights.visitorId()"));
    }

    public void Dispose() => listener.Close();
}
