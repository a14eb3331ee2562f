using System.Net;
using Insights.DevStack.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Insights.Ingest.BrowserTests;

/// <summary>
/// What the browser tests run against: the dev stack's Kafka, the real ingest host on a Kestrel port (sites configured
/// here, not from the Development settings), the site server, a reader of ingest's topic, and one headless Chromium.
/// </summary>
public sealed class TrackerStack : IAsyncLifetime
{
    public const string DemoKey = "browser-demo-write-key";
    public const string CookielessKey = "browser-private-write-key";
    public const string TracksAllKey = "browser-tracks-all-write-key";

    private readonly DevStackFixture devStack = new();

    /// <summary>The dev stack (Kafka, ClickHouse) the hosts run on.</summary>
    public DevStackFixture DevStack => devStack;
    private WebApplicationFactory<Program>? ingest;
    private IPlaywright? playwright;

    public string IngestOrigin { get; private set; } = "";

    public SiteServer Site { get; private set; } = null!;

    public KafkaEvents Events { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public IPlaywright Playwright => playwright!;

    /// <summary>Debian's Chromium, never a downloaded one; loopback only, so nothing leaves the machine.</summary>
    public static BrowserTypeLaunchOptions LaunchOptions => new()
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args = ["--disable-gpu", "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--no-sandbox"],
    };

    public async ValueTask InitializeAsync()
    {
        var browser = StartBrowserAsync();
        var site = SiteServer.StartAsync();
        await devStack.InitializeAsync();

        var topic = DevStackFixture.NewTopicName("browser");
        ingest = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            // Not Development: these sites, and only these, exist.
            web.UseEnvironment("BrowserTests");
            web.UseSetting(TestDataDirectories.Setting, TestDataDirectories.New());
            foreach (var (key, value) in Settings(devStack.KafkaBootstrap, topic))
            {
                web.UseSetting(key, value);
            }
        });
        ingest.UseKestrel(0);
        ingest.StartServer();
        IngestOrigin = ingest.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        // The first event creates the topic (and connects the producer), so the reader's group has partitions to join.
        using (var http = new HttpClient())
        {
            using var warmUp = await http.PostAsync(new Uri($"{IngestOrigin}/v1/events?key={DemoKey}"),
                new StringContent("""{"type":"track","event":"warm-up","anonymousId":"warm-up"}"""));
            Assert.Equal(HttpStatusCode.Accepted, warmUp.StatusCode);
        }

        Events = new KafkaEvents(devStack.KafkaBootstrap, topic);
        Site = await site;
        Browser = await browser;
    }

    /// <summary>The one-tag install: <c>&lt;script defer data-site-key=... src=".../t.js"&gt;</c>, plus any attributes.</summary>
    public string Snippet(string key = DemoKey, string attributes = "") =>
        $"""<script defer data-site-key="{key}" src="{IngestOrigin}/t.js" {attributes}></script>""";

    /// <summary>A page of the site under the test's own path prefix, so its events are told apart from other tests'.</summary>
    public string AddPage(string prefix, string path, string head, string body = "", string title = "Test page") =>
        Site.AddPage($"/{prefix}/{path}", $"""
            <!doctype html>
            <html><head><meta charset="utf-8"><title>{title}</title>{head}</head>
            <body>{body}</body></html>
            """);

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        playwright?.Dispose();
        if (Site is not null)
        {
            await Site.DisposeAsync();
        }

        if (Events is not null)
        {
            await Events.DisposeAsync();
        }

        if (ingest is not null)
        {
            await ingest.DisposeAsync();
        }

        await devStack.DisposeAsync();
    }

    private async Task<IBrowser> StartBrowserAsync()
    {
        playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        return await playwright.Chromium.LaunchAsync(LaunchOptions);
    }

    private static Dictionary<string, string?> Settings(string kafkaBootstrap, string topic) => new()
    {
        ["Urls"] = "http://127.0.0.1:0",
        ["Kafka:BootstrapServers"] = kafkaBootstrap,
        ["Kafka:EventsTopic"] = topic,
        ["Kafka:DeliveryTimeout"] = "00:00:20",
        ["Logging:LogLevel:Default"] = "Warning",
        ["Sites:0:Id"] = "demo",
        ["Sites:0:WriteKeys:0"] = DemoKey,
        ["Sites:1:Id"] = "private",
        ["Sites:1:WriteKeys:0"] = CookielessKey,
        ["Sites:1:Cookieless"] = "true",
        ["Sites:2:Id"] = "tracks-all",
        ["Sites:2:WriteKeys:0"] = TracksAllKey,
        ["Sites:2:HonorDoNotTrack"] = "false",
        ["Sites:2:HonorGlobalPrivacyControl"] = "false",
    };
}

/// <summary>One visitor: a browser context of its own (storage, cookies) with a page, and every uncaught error the page threw.</summary>
public sealed class Visitor : IAsyncDisposable
{
    private Visitor(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        page.Response += (_, r) => IngestTraffic.Saw(r.Request.Method, r.Url, r.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        page.RequestFailed += (_, r) => IngestTraffic.Saw(r.Method, r.Url, r.Failure ?? "failed");
        page.PageError += (_, error) =>
        {
            lock (Errors)
            {
                Errors.Add(error);
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>Uncaught exceptions and unhandled rejections in the page, from any script.</summary>
    public List<string> Errors { get; } = [];

    public static async Task<Visitor> OpenAsync(IBrowser browser, BrowserNewContextOptions? options = null)
    {
        var context = await browser.NewContextAsync(options);
        return new Visitor(context, await context.NewPageAsync());
    }

    public static async Task<Visitor> OpenAsync(IBrowserContext context) => new(context, await context.NewPageAsync());

    /// <summary>The tracker's id for this visitor (null when it keeps none).</summary>
    public Task<string?> VisitorIdAsync() => Page.EvaluateAsync<string?>("() => window.insights.visitorId()");

    /// <summary>Opens <paramref name="url"/> and waits until the deferred tracker has run and knows the visitor's id (a new
    /// visitor's id is derived asynchronously: undefined for its first milliseconds).</summary>
    public async Task GoToAsync(string url)
    {
        await Page.GotoAsync(url);
        await Page.WaitForFunctionAsync("() => window.insights && window.insights.visitorId && window.insights.visitorId() !== undefined");
    }

    // The page first, then the context: closing the context at once can cancel a beacon still in flight.
    public async ValueTask DisposeAsync()
    {
        if (!Page.IsClosed)
        {
            await Page.CloseAsync();
        }

        await Context.CloseAsync();
    }
}

/// <summary>
/// The last requests every test's browser made to ingest and how they ended, so a test that waited in vain for an event
/// says whether the browser never sent it, ingest refused it, or it was sent and accepted but never reached Kafka.
/// </summary>
public static class IngestTraffic
{
    private static readonly System.Collections.Concurrent.ConcurrentQueue<string> Lines = new();

    public static void Saw(string method, string url, string outcome)
    {
        if (!url.Contains("/v1/", StringComparison.Ordinal) && !url.EndsWith("/t.js", StringComparison.Ordinal))
        {
            return;
        }

        Lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {method} {url} -> {outcome}");
        while (Lines.Count > 100)
        {
            Lines.TryDequeue(out _);
        }
    }

    public static string Recent() => string.Join('\n', Lines);
}
