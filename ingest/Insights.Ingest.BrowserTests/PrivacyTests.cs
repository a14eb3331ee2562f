using System.Text.Json;
using Insights.Contracts;
using Microsoft.Playwright;

namespace Insights.Ingest.BrowserTests;

/// <summary>Cookieless sites and the browser's opt-out signals, in a real browser.</summary>
public sealed class PrivacyTests(TrackerStack stack)
{
    private readonly string prefix = Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_cookieless_site_stores_nothing_in_the_browser_and_still_counts_one_visitor()
    {
        var url = stack.AddPage(prefix, "private", stack.Snippet(TrackerStack.CookielessKey, "data-cookieless"));
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(url);
        await visitor.Page.EvaluateAsync("() => insights('track', 'Signup')");
        await visitor.Page.ReloadAsync();
        await visitor.Page.WaitForFunctionAsync("() => window.insights && window.insights.visitorId");

        Assert.Null(await visitor.VisitorIdAsync());
        Assert.Equal(0, await visitor.Page.EvaluateAsync<int>("() => localStorage.length + sessionStorage.length"));
        Assert.Equal("", await visitor.Page.EvaluateAsync<string>("() => document.cookie"));
        Assert.Empty(await visitor.Context.CookiesAsync());

        // The server derives the id, the same for both page loads (same browser, network and day).
        await stack.Events.WaitForAsync(e => Mine(e) && e.Type == EventTypes.Pageview, 2, "page views");
        await stack.Events.WaitForAsync(e => Mine(e) && e.Name == "Signup", what: "custom events");
        var events = stack.Events.Matching(Mine);
        Assert.All(events, e => Assert.Equal("private", e.SiteId));
        var id = Assert.Single(events.Select(e => e.AnonymousId).Distinct());
        Assert.Matches("^c-[A-Za-z0-9_-]{22}$", id);
        Assert.Empty(visitor.Errors);
    }

    [Fact]
    public async Task With_global_privacy_control_the_tracker_sends_and_stores_nothing()
    {
        var quiet = stack.AddPage(prefix, "gpc", stack.Snippet(), "<p>quiet</p>");
        var loud = stack.AddPage(prefix, "gpc-ignored", stack.Snippet(TrackerStack.TracksAllKey, "data-ignore-dnt"));
        // Chromium has no GPC setting; the page sees the signal as browsers that have one expose it.
        await using var context = await stack.Browser.NewContextAsync();
        await context.AddInitScriptAsync("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })");
        var sent = new List<string>();
        context.Request += (_, request) =>
        {
            if (request.Url.Contains("/v1/events", StringComparison.Ordinal))
            {
                lock (sent)
                {
                    sent.Add(request.PostData ?? "");
                }
            }
        };
        await using var visitor = await Visitor.OpenAsync(context);
        await visitor.GoToAsync(quiet);
        await visitor.Page.EvaluateAsync("() => insights('track', 'Signup')");
        Assert.Null(await visitor.VisitorIdAsync());
        Assert.Equal(0, await visitor.Page.EvaluateAsync<int>("() => localStorage.length"));
        Assert.Empty(await context.CookiesAsync());

        // A page whose snippet leaves the decision to the site (which tracks everyone) does send: the requests before it would have too.
        await visitor.GoToAsync(loud);
        await stack.Events.WaitForAsync(e => e.Type == EventTypes.Pageview && e.Url == loud, what: "page views");
        lock (sent)
        {
            Assert.All(sent, body => Assert.Contains("gpc-ignored", body, StringComparison.Ordinal));
        }

        Assert.Empty(stack.Events.Matching(e => e.Url == quiet));
    }

    [Fact]
    public async Task With_do_not_track_switched_on_in_chromium_nothing_is_stored_even_from_a_snippet_that_sends()
    {
        // Chromium's own setting: it then sends DNT: 1 with every request, beacons included, and sets navigator.doNotTrack.
        var profile = Directory.CreateTempSubdirectory("insights-dnt-profile-");
        try
        {
            Directory.CreateDirectory(Path.Combine(profile.FullName, "Default"));
            await File.WriteAllTextAsync(Path.Combine(profile.FullName, "Default", "Preferences"), """{"enable_do_not_track": true}""",
                TestContext.Current.CancellationToken);
            var launch = TrackerStack.LaunchOptions;
            await using var context = await stack.Playwright.Chromium.LaunchPersistentContextAsync(profile.FullName, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = launch.ExecutablePath,
                Headless = launch.Headless,
                Args = launch.Args,
            });
            var honoured = stack.AddPage(prefix, "dnt", stack.Snippet(attributes: "data-ignore-dnt"));
            var ignored = stack.AddPage(prefix, "dnt-ignored", stack.Snippet(TrackerStack.TracksAllKey, "data-ignore-dnt"));

            await using var visitor = await Visitor.OpenAsync(context);
            Assert.Equal("1", await visitor.Page.EvaluateAsync<string>("() => navigator.doNotTrack"));
            var answer = visitor.Page.WaitForResponseAsync(r => r.Url.Contains("/v1/events", StringComparison.Ordinal));
            await visitor.GoToAsync(honoured);
            var response = await answer;
            Assert.Equal("1", await response.Request.HeaderValueAsync("dnt"));
            using var body = JsonDocument.Parse(await response.TextAsync());
            Assert.Equal((202, 0, "do_not_track"),
                (response.Status, body.RootElement.GetProperty("accepted").GetInt32(), body.RootElement.GetProperty("reason").GetString()));

            // The site that does not honour the signal keeps its page view; the one that does has none.
            await visitor.GoToAsync(ignored);
            await stack.Events.WaitForAsync(e => e.Type == EventTypes.Pageview && e.Url == ignored, what: "page views");
            Assert.Empty(stack.Events.Matching(e => e.Url == honoured));
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    private bool Mine(PipelineEvent e) => e.Url?.Contains(prefix, StringComparison.Ordinal) == true;
}
