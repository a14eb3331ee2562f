using Insights.Contracts;

namespace Insights.Ingest.BrowserTests;

/// <summary>The page-facing API: custom events, identify, the pre-load queue and a tag-manager install.</summary>
public sealed class ApiTests(TrackerStack stack)
{
    private const string Stub = "window.insights = window.insights || function () { (insights.q = insights.q || []).push(arguments) }";

    private readonly string prefix = Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Track_and_identify_calls_arrive_and_later_events_carry_the_user()
    {
        var url = stack.AddPage(prefix, "account", stack.Snippet());
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(url);
        await visitor.Page.EvaluateAsync("""
            () => {
              insights('track', 'Pricing Viewed', { plan: 'pro', seats: 5 })
              insights('identify', 'user-42', { email: ' Ann@Example.COM ', plan: 'pro' })
              insights('track', 'Checkout Started')
            }
            """);
        var anonymousId = await visitor.VisitorIdAsync();

        var viewed = Assert.Single(await stack.Events.WaitForAsync(e => e.Name == "Pricing Viewed" && Mine(e), what: "custom events"));
        Assert.Equal((EventTypes.Track, anonymousId, null), (viewed.Type, viewed.AnonymousId, viewed.UserId));
        Assert.Equal("""{"plan":"pro","seats":5}""", viewed.Properties?.GetRawText());

        var identify = Assert.Single(await stack.Events.WaitForAsync(e => e.Type == EventTypes.Identify && Mine(e), what: "identify events"));
        Assert.Equal((anonymousId, "user-42"), (identify.AnonymousId, identify.UserId));
        // The address itself never leaves ingest: its hash joins the person across sources.
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("ann@example.com"u8)), identify.EmailHash);
        Assert.Equal("""{"plan":"pro"}""", identify.Properties?.GetRawText());

        var checkout = Assert.Single(await stack.Events.WaitForAsync(e => e.Name == "Checkout Started" && Mine(e), what: "custom events"));
        Assert.Equal((anonymousId, "user-42"), (checkout.AnonymousId, checkout.UserId));
        Assert.Empty(visitor.Errors);
    }

    [Fact]
    public async Task Calls_made_before_the_tracker_loads_are_queued_and_sent()
    {
        // The tracker loads last (deferred), after the page has already identified the user and sent an event.
        var url = stack.AddPage(prefix, "early", $$"""
            <script>
              {{Stub}}
              insights('identify', 'user-7')
              insights('track', 'Early Bird', { source: 'inline' })
            </script>
            {{stack.Snippet()}}
            """);
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(url);

        var early = Assert.Single(await stack.Events.WaitForAsync(e => e.Name == "Early Bird" && Mine(e), what: "custom events"));
        Assert.Equal(("user-7", """{"source":"inline"}"""), (early.UserId, early.Properties?.GetRawText()));
        Assert.Single(await stack.Events.WaitForAsync(e => e.Type == EventTypes.Identify && Mine(e), what: "identify events"));
        // The queued identify tags the first page view too.
        var view = Assert.Single(await stack.Events.WaitForAsync(e => e.Type == EventTypes.Pageview && Mine(e), what: "page views"));
        Assert.Equal("user-7", view.UserId);
        Assert.Equal(await visitor.VisitorIdAsync(), view.AnonymousId);
    }

    [Fact]
    public async Task A_tag_manager_install_that_injects_the_script_works_like_the_tag()
    {
        // What a Google Tag Manager custom HTML tag does: create the script element with its data attributes, later.
        var url = stack.AddPage(prefix, "gtm", $$"""
            <script>
              {{Stub}}
              setTimeout(function () {
                var s = document.createElement('script')
                s.async = true
                s.src = '{{stack.IngestOrigin}}/t.js'
                s.setAttribute('data-site-key', '{{TrackerStack.DemoKey}}')
                document.head.appendChild(s)
              }, 50)
              document.addEventListener('click', function () { insights('track', 'Clicked') })
            </script>
            """, "<button id=\"b\">b</button>");
        await using var visitor = await Visitor.OpenAsync(stack.Browser);
        await visitor.GoToAsync(url);
        await visitor.Page.ClickAsync("#b");

        await stack.Events.WaitForAsync(e => e.Type == EventTypes.Pageview && Mine(e), what: "page views");
        await stack.Events.WaitForAsync(e => e.Name == "Clicked" && Mine(e), what: "custom events");
        Assert.Empty(visitor.Errors);
    }

    private bool Mine(PipelineEvent e) => e.Url?.Contains(prefix, StringComparison.Ordinal) == true;
}
