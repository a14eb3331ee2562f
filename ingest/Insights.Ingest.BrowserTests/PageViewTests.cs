using System.Text.Json;
using Insights.Contracts;

namespace Insights.Ingest.BrowserTests;

/// <summary>What a site owner counts on: page views, single-page-app navigations and time on page reach the pipeline.</summary>
public sealed class PageViewTests(TrackerStack stack)
{
    private readonly string prefix = Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_page_with_the_snippet_sends_its_view_with_url_title_referrer_and_visitor()
    {
        var start = stack.AddPage(prefix, "start", "", $"""<a id="go" href="/{prefix}/pricing?utm_source=newsletter">Pricing</a>""");
        stack.AddPage(prefix, "pricing", stack.Snippet(), "<h1>Pricing</h1>", title: "Pricing – Demo shop");
        await using var visitor = await Visitor.OpenAsync(stack.Browser, new() { Locale = "de-DE", ViewportSize = new() { Width = 1280, Height = 720 } });
        await visitor.Page.GotoAsync(start);
        await visitor.Page.ClickAsync("#go");
        await visitor.Page.WaitForFunctionAsync("() => window.insights && window.insights.visitorId");

        var view = Assert.Single(await stack.Events.WaitForAsync(e => e.Type == EventTypes.Pageview && Mine(e), what: "page views"));
        Assert.Equal(("demo", $"{stack.Site.Origin}/{prefix}/pricing?utm_source=newsletter", "Pricing – Demo shop", start),
            (view.SiteId, view.Url, view.Title, view.Referrer));
        Assert.Equal("newsletter", view.UtmSource);
        Assert.Equal(await visitor.VisitorIdAsync(), view.AnonymousId);
        Assert.Matches("^[0-9a-z]{8,}$", view.AnonymousId);
        Assert.Equal(("de-DE", 1280, 720), (view.Locale, view.ScreenWidth, view.ScreenHeight));
        Assert.Equal("tracker", view.Source);
        // Stamped by ingest from the request: the browser's own address and user agent.
        Assert.Equal("127.0.0.1", view.Ip);
        Assert.Contains("Chrome/", view.UserAgent, StringComparison.Ordinal);
        Assert.False(view.TimestampClamped);
        Assert.Empty(visitor.Errors);
    }

    [Fact]
    public async Task Single_page_app_navigations_count_as_page_views_and_only_real_ones()
    {
        var first = stack.AddPage(prefix, "app", stack.Snippet(), title: "App");
        var second = $"{stack.Site.Origin}/{prefix}/app/orders";
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(first);

        await visitor.Page.EvaluateAsync($$"""
            () => {
              history.replaceState({ step: 0 }, '', location.href);   // same URL: not a view
              history.pushState({ step: 1 }, '', '/{{prefix}}/app/orders');
              history.pushState({ step: 1 }, '', '/{{prefix}}/app/orders#details');   // only the fragment: not a view
            }
            """);
        await stack.Events.WaitForAsync(e => e.Type == EventTypes.Pageview && Mine(e), 2, "page views");
        // Back to the first page: popstate.
        await visitor.Page.EvaluateAsync("() => history.go(-2)");
        var views = await stack.Events.WaitForAsync(e => e.Type == EventTypes.Pageview && Mine(e), 3, "page views");

        // Leaving flushes whatever is still queued: a view that should not have counted would be on Kafka by then.
        await visitor.Page.GotoAsync("about:blank");
        await stack.Events.WaitForAsync(e => e.Name == "engagement" && Mine(e), 3, "engagement events");
        views = stack.Events.Matching(e => e.Type == EventTypes.Pageview && Mine(e)).OrderBy(e => e.Timestamp).ToList();
        Assert.Equal([first, second, first], views.Select(v => v.Url));
        // In the app, the page just left is the referrer.
        Assert.Equal(first, views[1].Referrer);
        Assert.Equal(second, views[2].Referrer);
        Assert.Single(views.Select(v => v.AnonymousId).Distinct());
        Assert.Empty(visitor.Errors);
    }

    [Fact]
    public async Task Leaving_the_page_records_the_time_it_was_engaged()
    {
        var url = stack.AddPage(prefix, "article", stack.Snippet());
        var elsewhere = stack.AddPage(prefix, "elsewhere", "");
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(url);
        var view = (await stack.Events.WaitForAsync(e => e.Type == EventTypes.Pageview && Mine(e), what: "page views"))[0];
        await Task.Delay(1200, TestContext.Current.CancellationToken);
        await visitor.Page.GotoAsync(elsewhere);

        var engagement = Assert.Single(await stack.Events.WaitForAsync(e => e.Name == "engagement" && Mine(e), what: "engagement events"));
        Assert.Equal((EventTypes.Track, url, view.AnonymousId), (engagement.Type, engagement.Url, engagement.AnonymousId));
        var properties = engagement.Properties!.Value;
        // The tracker names its page view by its messageId; ingest stores it in the write key's namespace.
        Assert.Equal(view.EventId, "pub:" + properties.GetProperty("pageview_id").GetString());
        Assert.InRange(properties.GetProperty("engaged_ms").GetInt64(), 1000, 120_000);
    }

    [Fact]
    public async Task Closing_the_tab_records_the_time_it_was_engaged()
    {
        var url = stack.AddPage(prefix, "closed", stack.Snippet());
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(url);
        await stack.Events.WaitForAsync(e => e.Type == EventTypes.Pageview && Mine(e), what: "page views");
        await visitor.Page.CloseAsync(new() { RunBeforeUnload = true });

        var engagement = Assert.Single(await stack.Events.WaitForAsync(e => e.Name == "engagement" && Mine(e), what: "engagement events"));
        Assert.True(engagement.Properties!.Value.GetProperty("engaged_ms").GetInt64() > 0);
    }

    [Fact]
    public async Task The_visitor_id_survives_reloads_and_either_store_being_cleared_and_differs_per_browser()
    {
        var url = stack.AddPage(prefix, "home", stack.Snippet());
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(url);
        var id = await visitor.VisitorIdAsync();
        Assert.NotNull(id);

        await visitor.Page.ReloadAsync();
        await visitor.Page.WaitForFunctionAsync("() => window.insights && window.insights.visitorId");
        Assert.Equal(id, await visitor.VisitorIdAsync());

        // Storage cleared (or blocked): the first-party cookie still knows the visitor, and the other way round.
        await visitor.Page.EvaluateAsync("() => localStorage.clear()");
        await visitor.GoToAsync(url);
        Assert.Equal(id, await visitor.VisitorIdAsync());
        await visitor.Context.ClearCookiesAsync();
        await visitor.GoToAsync(url);
        Assert.Equal(id, await visitor.VisitorIdAsync());
        Assert.Contains($"insights_vid={id}", await visitor.Page.EvaluateAsync<string>("() => document.cookie"), StringComparison.Ordinal);

        var views = await stack.Events.WaitForAsync(e => e.Type == EventTypes.Pageview && Mine(e), 4, "page views");
        Assert.All(views, v => Assert.Equal(id, v.AnonymousId));

        await using var someoneElse = await Visitor.OpenAsync(stack.Browser);
        await someoneElse.GoToAsync(url);
        Assert.NotEqual(id, await someoneElse.VisitorIdAsync());
    }

    private bool Mine(PipelineEvent e) => e.Url?.Contains(prefix, StringComparison.Ordinal) == true;
}
