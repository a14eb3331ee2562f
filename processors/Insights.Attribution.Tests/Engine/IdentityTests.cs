using Insights.Attribution.Engine;
using Insights.Attribution.Tests.Support;
using static Insights.Attribution.Tests.Support.Ev;

namespace Insights.Attribution.Tests.Engine;

/// <summary>Stitching visitors, users and e-mail hashes into one person, across devices and batches.</summary>
public sealed class IdentityTests
{
    [Fact]
    public void A_chat_on_a_laptop_is_credited_for_an_order_from_a_phone_once_both_log_in()
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "laptop", T.Days(-2)), Pageview("laptop", T.Days(-2)));
        h.Run(Order("o1", "phone", T, 90m));
        Assert.Empty(h.Store.Credits("o1"));

        h.Run(Identify("laptop", T.Days(-2), user: "u-42"), Identify("phone", T.Hours(-1), user: "u-42"));

        var credit = Assert.Single(h.Store.Credits("o1", AttributionModels.LastChat));
        Assert.Equal(("c1", 90m, Confidence.High), (credit.ChatId, credit.Amount, credit.Confidence));
        // The person is the smallest id: anonymous ids sort before user ids.
        Assert.Equal("a:laptop", credit.PersonId);
        Assert.Equal("a:laptop", h.Store.Identity("a:phone")!.PersonId);
        Assert.Equal("a:laptop", h.Store.Identity("u:u-42")!.PersonId);
        Assert.Equal(3u, h.Store.Identity("u:u-42")!.Members);
    }

    [Fact]
    public void An_alias_joins_the_anonymous_visitor_who_chatted_to_the_user_who_ordered()
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "anon-7", T.Days(-1)), Order("o1", null, T, 60m, user: "u-9"));
        Assert.Empty(h.Store.Credits("o1"));

        // Segment's alias(previousId, userId): the id the visitor had before signing up is the user now.
        var output = h.Run(Alias("anon-7", "u-9", T.Hours(-2)));

        Assert.Contains(output.Links, l => l.Reason == LinkReasons.Alias && (l.From, l.To) is ("a:anon-7", "u:u-9") or ("u:u-9", "a:anon-7"));
        Assert.Equal(60m, h.Store.Amounts("o1", AttributionModels.LastChat)["c1"]);
        Assert.Equal(h.Store.Identity("a:anon-7")!.PersonId, h.Store.Identity("u:u-9")!.PersonId);
    }

    [Fact]
    public void An_alias_of_an_older_user_id_joins_both_users()
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "v1", T.Days(-2)) with { UserId = "old-login" }, Order("o1", null, T, 15m, user: "new-login"));

        h.Run(Alias("old-login", "new-login", T.Hours(-1)));

        Assert.Equal(15m, h.Store.Amounts("o1", AttributionModels.LastChat)["c1"]);
    }

    [Fact]
    public void A_hashed_email_on_the_chat_and_on_the_order_joins_them()
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "lc-customer-1", T.Hours(-3), email: "AB12"), Order("o1", null, T, 45m, email: "ab12 "));

        Assert.Equal(45m, h.Store.Amounts("o1", AttributionModels.LastChat)["c1"]);
        Assert.Equal("a:lc-customer-1", h.Store.Order("o1")!.PersonId);
    }

    [Fact]
    public void A_logged_in_page_view_links_the_visitor_to_the_user_once()
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "v1", T.Hours(-1)), Order("o1", null, T, 20m, user: "u1"));
        Assert.Empty(h.Store.Credits("o1"));

        var first = h.Run(Pageview("v1", T.Hours(-2), user: "u1"));
        Assert.Single(first.Links);
        Assert.Equal(20m, h.Store.Amounts("o1", AttributionModels.LastChat)["c1"]);

        // The link is stored and known: further logged-in page views cost no load and write nothing.
        var loads = h.Store.Loads;
        var again = h.Run(Pageview("v1", T.Hours(-1.5), user: "u1"), Pageview("v1", T.Hours(-1.4), user: "u1"));
        Assert.Empty(again.Links);
        Assert.Empty(again.Credits);
        Assert.Equal(loads, h.Store.Loads);
    }

    [Fact]
    public void Persons_of_different_sites_never_mix()
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "v1", T.Hours(-1)) with { SiteId = "other" }, Order("o1", "v1", T, 20m));

        Assert.Empty(h.Store.Credits("o1"));
    }

    [Fact]
    public void Ids_that_are_too_long_or_carry_control_characters_are_not_linked()
    {
        var h = new Harness();
        var output = h.Run(Identify("v1", T, user: new string('x', 300)), Identify("v1", T, user: "bad\nid"), Identify("v1", T, user: "ok"));

        Assert.Equal(["u:ok"], output.Links.Select(l => l.To));
    }
}
