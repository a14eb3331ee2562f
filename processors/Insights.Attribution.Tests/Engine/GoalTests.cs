using Insights.Attribution.Engine;
using Insights.Attribution.Tests.Support;
using Insights.Contracts;
using static Insights.Attribution.Tests.Support.Ev;

namespace Insights.Attribution.Tests.Engine;

/// <summary>Site goals: which events complete them, once each, with what value.</summary>
public sealed class GoalTests
{
    private static Harness WithGoals() => new(site => site.Goals =
    [
        new SiteGoal { Id = "thanks", Kind = "page", UrlPattern = "/checkout/*/thank-you", Value = 5m },
        new SiteGoal { Id = "pricing", Kind = "page", UrlPattern = "https://shop.example/pricing" },
        new SiteGoal { Id = "signup", Kind = "event", EventName = "Signed Up", Value = 2.5m },
        new SiteGoal { Id = "chat", Kind = "chat_started" },
        new SiteGoal { Id = "buy", Kind = "order_placed" },
        new SiteGoal { Id = "big-buy", Kind = "order_placed", Value = 1m },
    ]);

    [Fact]
    public void Page_goals_match_paths_and_urls_case_insensitively_ignoring_query_and_fragment()
    {
        var h = WithGoals();
        h.Run(
            Pageview("v1", T, "https://shop.example/Checkout/123/THANK-YOU?utm=x#top"),
            Pageview("v2", T, "https://shop.example/checkout/thank-you"),
            Pageview("v3", T, "https://shop.example/pricing?plan=pro"),
            Pageview("v4", T, "https://other.example/pricing"),
            Pageview("v5", T, "https://shop.example/checkout/9/thank-you/extra"));

        Assert.Equal(["a:v1"], h.Store.Completions("thanks").Select(c => c.Node));
        Assert.Equal(5m, h.Store.Completions("thanks").Single().Value);
        Assert.Equal(["a:v3"], h.Store.Completions("pricing").Select(c => c.Node));
        Assert.Equal(0m, h.Store.Completions("pricing").Single().Value);
    }

    [Fact]
    public void Event_chat_and_order_goals_complete_once_per_event_chat_and_order()
    {
        var h = WithGoals();
        h.Run(Track("v1", T, "Signed Up"), Track("v1", T, "signed up"),
            ChatStarted("c1", "v1", T), ChatStarted("c1", "v1", T),
            Order("o1", "v1", T, 40m, "EUR"), Order("o1", "v1", T.Hours(1), 44m, "EUR"));

        Assert.Equal(2.5m, Assert.Single(h.Store.Completions("signup")).Value);
        Assert.Equal("c:c1", Assert.Single(h.Store.Completions("chat")).Key);
        var buy = Assert.Single(h.Store.Completions("buy"));
        // Worth the order's latest amount in the reporting currency: 44 EUR × 1.10.
        Assert.Equal(("o:o1", 48.4m, T.UtcDateTime), (buy.Key, buy.Value, buy.Timestamp));
        Assert.Equal(1m, Assert.Single(h.Store.Completions("big-buy")).Value);
    }

    [Theory]
    [InlineData("/a*", "/abc", true)]
    [InlineData("*thank*", "/checkout/thank-you", true)]
    [InlineData("/a*c", "/abcbc", true)]
    [InlineData("/a*c", "/abcb", false)]
    [InlineData("/", "/", true)]
    [InlineData("/", "/x", false)]
    [InlineData("**", "", true)]
    public void Globs_match_like_shell_wildcards(string pattern, string path, bool expected) =>
        Assert.Equal(expected, UrlPattern.Glob(pattern, path));

    [Fact]
    public void A_hostile_url_cannot_make_matching_slow()
    {
        var url = "https://shop.example/" + string.Concat(Enumerable.Repeat("a", 100_000));
        var goal = new GoalRule(new SiteGoal { Id = "g", Kind = "page", UrlPattern = "*a*a*a*a*a*a*a*a*b" });

        Assert.False(goal.MatchesPage(url)); // linear backtracking: returns at once instead of never
    }
}
