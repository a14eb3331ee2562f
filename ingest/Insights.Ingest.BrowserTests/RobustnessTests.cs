using Microsoft.AspNetCore.Http;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Insights.Contracts;

namespace Insights.Ingest.BrowserTests;

/// <summary>The tracker and the host page never take each other down.</summary>
public sealed class RobustnessTests(TrackerStack stack)
{
    private readonly string prefix = Guid.NewGuid().ToString("N");

    // The page's own feature: a button whose handler must keep working whatever happens to tracking.
    private const string Counter = """
        <button id="add" onclick="document.getElementById('count').textContent = +document.getElementById('count').textContent + 1">Add</button>
        <span id="count">0</span>
        """;

    [Fact]
    public async Task A_script_error_in_the_host_page_does_not_stop_tracking()
    {
        var url = stack.AddPage(prefix, "broken", $$"""
            <script>undefinedFunctionOfTheSite()</script>
            {{stack.Snippet()}}
            <script>window.addEventListener('DOMContentLoaded', () => { throw new Error('the site broke again') })</script>
            """, """<button id="buy" onclick="insights('track', 'Buy clicked', { plan: 'pro' }); null.boom">Buy</button>""");
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(url);
        await visitor.Page.ClickAsync("#buy");

        await stack.Events.WaitForAsync(e => e.Type == EventTypes.Pageview && Mine(e), what: "page views");
        var click = Assert.Single(await stack.Events.WaitForAsync(e => e.Name == "Buy clicked" && Mine(e), what: "custom events"));
        Assert.Equal("""{"plan":"pro"}""", click.Properties?.GetRawText());
        // Only the site's own three errors; none from the tracker.
        Assert.Equal(3, visitor.Errors.Count);
    }

    [Fact]
    public async Task An_ingest_answering_503_is_retried_after_its_retry_after_and_the_page_keeps_working()
    {
        var (api, sink) = stack.Site.AddSink(503, 429, 503);
        // The custom event is queued before the tracker loads, so it travels in the page view's batch.
        var url = stack.AddPage(prefix, "flaky", $$"""
            <script>
              window.insights = window.insights || function () { (insights.q = insights.q || []).push(arguments) }
              insights('track', 'Signup', { plan: 'pro' })
            </script>
            {{stack.Snippet(attributes: $"data-api=\"{api}\"")}}
            """, Counter);
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(url);
        await visitor.Page.ClickAsync("#add");
        await visitor.Page.ClickAsync("#add");
        Assert.Equal("2", await visitor.Page.TextContentAsync("#count"));

        // Three refusals, then the same events accepted: nothing lost, nothing sent twice once accepted.
        await WaitUntilAsync(() => sink.Requests.Any(r => r.Status == 202));
        var requests = sink.Requests;
        Assert.Equal([503, 429, 503, 202], requests.Take(4).Select(r => r.Status));
        var delivered = Events(requests[3].Body);
        Assert.Equal(["pageview", "track"], delivered.Select(e => e.GetProperty("type").GetString()).Order());
        Assert.Equal(Ids(requests[0].Body).Order(), Ids(requests[3].Body).Order());
        Assert.Empty(visitor.Errors);
    }

    [Fact]
    public async Task Events_refused_when_the_visitor_leaves_are_sent_by_the_next_page()
    {
        // Ingest pushes back (503, as under back-pressure) for longer than the visitor stays on the page, with a
        // Retry-After the page does not live to see; it is accepting again when the visitor opens another page.
        var (api, sink) = stack.Site.AddSinkRetryingAfter(120);
        sink.Closed = true;
        var snippet = stack.Snippet(attributes: $"data-api=\"{api}\"");
        var first = stack.AddPage(prefix, "kept-first", snippet, Counter);
        var between = stack.AddPage(prefix, "kept-between", "", Counter);
        var second = stack.AddPage(prefix, "kept-second", snippet, Counter);
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        var refusal = visitor.Page.WaitForResponseAsync(r => r.Url.StartsWith(api, StringComparison.Ordinal) && r.Status == 503);
        await visitor.GoToAsync(first);
        await refusal;
        await visitor.Page.EvaluateAsync("() => new Promise(r => setTimeout(r, 100))"); // the tracker has taken the answer
        var refused = Assert.Single(Events(Assert.Single(sink.Requests).Body));
        Assert.Equal("pageview", refused.GetProperty("type").GetString());
        var refusedId = refused.GetProperty("messageId").GetString()!;

        // Left for a page without the tracker: backing off, the tracker keeps its events instead of a send bound to be refused.
        await visitor.Page.GotoAsync(between);
        Assert.Contains(refusedId, await visitor.Page.EvaluateAsync<string>(KeptEvents), StringComparison.Ordinal);
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.Single(sink.Requests);
        sink.Closed = false;

        await visitor.GoToAsync(second);
        await WaitUntilAsync(() => sink.Requests.Any(r => r.Status == 202 && Ids(r.Body).Contains(refusedId)));

        // One send from the second page: the first page's view, its engagement (the page was left) and the second view.
        var accepted = sink.Requests.Where(r => r.Status == 202).ToList();
        var delivered = Events(Assert.Single(accepted).Body);
        Assert.Equal(refusedId, delivered[0].GetProperty("messageId").GetString());
        Assert.Equal(refused.GetProperty("anonymousId").GetString(), delivered[0].GetProperty("anonymousId").GetString());
        Assert.Contains(delivered, e => e.GetProperty("type").GetString() == "track"
            && e.GetProperty("properties").GetProperty("pageview_id").GetString() == refusedId);
        Assert.Contains(delivered, e => e.GetProperty("type").GetString() == "pageview"
            && e.GetProperty("context").GetProperty("page").GetProperty("url").GetString()!.EndsWith("kept-second", StringComparison.Ordinal));
        Assert.Null(await visitor.Page.EvaluateAsync<string?>(KeptEvents));
        Assert.Empty(visitor.Errors);
    }

    [Fact]
    public async Task Events_refused_six_times_are_kept_and_sent_with_the_next_events()
    {
        var (api, sink) = stack.Site.AddSink();
        sink.Closed = true; // Retry-After: 1, so the five retries take about five seconds
        var url = stack.AddPage(prefix, "kept-retries", stack.Snippet(attributes: $"data-api=\"{api}\""), Counter);
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(url);
        await WaitUntilAsync(() => sink.Requests.Count >= 6);
        var refusedId = Assert.Single(Ids(sink.Requests[0].Body));
        Assert.All(sink.Requests, r => Assert.Equal([refusedId], Ids(r.Body)));
        await visitor.Page.WaitForFunctionAsync($"() => ({KeptEvents})()?.includes('{refusedId}')");
        Assert.Equal(6, sink.Requests.Count); // given up on this page: no seventh send on its own

        sink.Closed = false;
        await visitor.Page.EvaluateAsync("() => insights('track', 'Later')");
        await WaitUntilAsync(() => sink.Requests.Any(r => r.Status == 202));
        var delivered = Events(sink.Requests.Single(r => r.Status == 202).Body);
        Assert.Equal([refusedId], delivered.Where(e => e.GetProperty("type").GetString() == "pageview").Select(e => e.GetProperty("messageId").GetString()));
        Assert.Contains(delivered, e => e.TryGetProperty("event", out var name) && name.GetString() == "Later");
        Assert.Null(await visitor.Page.EvaluateAsync<string?>(KeptEvents));
        Assert.Empty(visitor.Errors);
    }

    [Fact]
    public async Task An_unreachable_ingest_does_not_break_the_page()
    {
        var url = stack.AddPage(prefix, "offline", stack.Snippet(attributes: $"data-api=\"http://127.0.0.1:{ClosedPort()}\""), Counter);
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        var failures = 0;
        visitor.Page.RequestFailed += (_, request) => Interlocked.Increment(ref failures);
        await visitor.GoToAsync(url);
        await visitor.Page.EvaluateAsync("() => { insights('track', 'Signup'); insights('identify', 'user-1'); insights('no such command', 1, 2) }");
        await visitor.Page.ClickAsync("#add");

        // The tracker tried (and will again, backing off), and the page's own code still runs.
        await WaitUntilAsync(() => Volatile.Read(ref failures) > 0);
        await visitor.Page.ClickAsync("#add");
        Assert.Equal("2", await visitor.Page.TextContentAsync("#count"));
        Assert.Empty(visitor.Errors);
    }

    [Fact]
    public async Task A_snippet_without_a_site_key_or_loaded_twice_stays_quiet()
    {
        var url = stack.AddPage(prefix, "misconfigured", $"""
            <script defer src="{stack.IngestOrigin}/t.js"></script>
            {stack.Snippet()}
            {stack.Snippet()}
            """, Counter);
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(url);
        await visitor.Page.ClickAsync("#add");
        await visitor.Page.GotoAsync("about:blank");

        // One page view, though the tracker ran three times. Counted by id: a send the tracker retried (its answer was
        // slow on a loaded machine) reaches Kafka twice with the same id, which storage keeps once.
        await stack.Events.WaitForAsync(e => e.Name == "engagement" && Mine(e), what: "engagement events");
        Assert.Single(stack.Events.Matching(e => e.Type == EventTypes.Pageview && Mine(e)).Select(e => e.EventId).Distinct());
        Assert.Empty(visitor.Errors);
    }

    /// <summary>What the tracker keeps for the next page (the site's own key: two sites on one origin keep theirs apart).</summary>
    private const string KeptEvents = $"() => localStorage.getItem('insights_q:{TrackerStack.DemoKey}')";

    private bool Mine(PipelineEvent e) => e.Url?.Contains(prefix, StringComparison.Ordinal) == true;

    private static List<JsonElement> Events(string body) =>
        JsonDocument.Parse(body).RootElement.GetProperty("batch").EnumerateArray().Select(e => e.Clone()).ToList();

    private static IEnumerable<string> Ids(string body) => Events(body).Select(e => e.GetProperty("messageId").GetString()!);

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 30 s.");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
