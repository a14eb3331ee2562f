using Insights.Attribution.Engine;
using Insights.Attribution.Tests.Support;
using static Insights.Attribution.Tests.Support.Ev;

namespace Insights.Attribution.Tests.Engine;

/// <summary>The same-IP-and-user-agent fallback: links only when unambiguous, marked low confidence, and can be turned off.</summary>
public sealed class WeakLinkTests
{
    private const string Ip = "203.0.113.9";
    private const string Ua = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";

    [Fact]
    public void A_chat_without_the_tracker_id_is_linked_to_the_one_visitor_on_the_same_ip_and_browser_with_low_confidence()
    {
        var h = new Harness();
        h.Run(Pageview("t1", T.Hours(-2), ip: Ip, userAgent: Ua),
            ChatStarted("c1", "livechat-77", T.Hours(-2).AddMinutes(3), ip: Ip, userAgent: Ua));
        h.Run(Order("o1", "t1", T, 60m));

        var credit = Assert.Single(h.Store.Credits("o1", AttributionModels.LastChat));
        Assert.Equal(("c1", 60m, Confidence.Low), (credit.ChatId, credit.Amount, credit.Confidence));
        var identity = h.Store.Identity("a:t1")!;
        Assert.Equal("a:livechat-77", identity.PersonId);
        Assert.Equal("a:t1", identity.StrongPersonId);
    }

    [Fact]
    public void A_stated_link_makes_the_same_credit_high_confidence()
    {
        var h = new Harness();
        h.Run(Pageview("t1", T.Hours(-2), ip: Ip, userAgent: Ua),
            ChatStarted("c1", "livechat-77", T.Hours(-2).AddMinutes(3), ip: Ip, userAgent: Ua),
            Order("o1", "t1", T, 60m));
        Assert.Equal(Confidence.Low, h.Store.Credits("o1", AttributionModels.LastChat).Single().Confidence);

        h.Run(Identify("t1", T, email: "h1"), Identify("livechat-77", T, email: "h1"));

        Assert.Equal(Confidence.High, h.Store.Credits("o1", AttributionModels.LastChat).Single().Confidence);
    }

    [Fact]
    public void Two_visitors_behind_the_same_ip_and_browser_are_a_crowd_and_nothing_is_guessed()
    {
        var h = new Harness();
        h.Run(Pageview("t1", T.Hours(-2), ip: Ip, userAgent: Ua), Pageview("t2", T.Hours(-2), ip: Ip, userAgent: Ua),
            ChatStarted("c1", "livechat-77", T.Hours(-2).AddMinutes(1), ip: Ip, userAgent: Ua),
            Order("o1", "t1", T, 60m));

        Assert.Empty(h.Store.Credits("o1"));
    }

    [Fact]
    public void Sightings_further_apart_than_the_window_do_not_link()
    {
        var h = new Harness();
        h.Run(Pageview("t1", T.Hours(-3), ip: Ip, userAgent: Ua),
            ChatStarted("c1", "livechat-77", T.Hours(-2), ip: Ip, userAgent: Ua),
            Order("o1", "t1", T, 60m));

        Assert.Empty(h.Store.Credits("o1"));
    }

    [Fact]
    public void A_site_can_turn_the_fallback_off()
    {
        var h = new Harness(site => site.WeakIdentityLinking = false);
        h.Run(Pageview("t1", T.Hours(-2), ip: Ip, userAgent: Ua),
            ChatStarted("c1", "livechat-77", T.Hours(-2).AddMinutes(3), ip: Ip, userAgent: Ua),
            Order("o1", "t1", T, 60m));

        Assert.Empty(h.Store.Credits("o1"));
        Assert.DoesNotContain(h.Last.Links, l => l.Strength == LinkStrength.Weak);
    }

    [Fact]
    public void The_global_switch_turns_it_off_for_every_site()
    {
        var h = new Harness(settings: new EngineSettings { WeakLinking = false });
        h.Run(Pageview("t1", T.Hours(-2), ip: Ip, userAgent: Ua),
            ChatStarted("c1", "livechat-77", T.Hours(-2).AddMinutes(3), ip: Ip, userAgent: Ua),
            Order("o1", "t1", T, 60m));

        Assert.Empty(h.Store.Credits("o1"));
    }

    [Fact]
    public void The_linker_forgets_the_oldest_pairs_when_full()
    {
        const long cap = 64 * 1024;
        var linker = new WeakLinker(new EngineSettings { WeakLinkMaxBytes = cap });
        for (var i = 0; i < 1_000; i++)
        {
            linker.See("shop", $"10.0.{i / 256}.{i % 256}", Ua, $"a:v{i}", T.UtcDateTime.AddSeconds(i));
            Assert.InRange(linker.BytesHeld, 1, cap);
        }

        Assert.InRange(linker.Count, 10, 999);
        Assert.True(linker.Evictions > 0);
        Assert.Equal("a:v999", linker.Match("shop", "10.0.3.231", Ua, null, T.UtcDateTime.AddSeconds(999)));
        Assert.Null(linker.Match("shop", "10.0.0.0", Ua, null, T.UtcDateTime));
    }
}
