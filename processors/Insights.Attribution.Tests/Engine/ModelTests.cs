using Insights.Attribution.Engine;
using Insights.Attribution.Tests.Support;
using static Insights.Attribution.Tests.Support.Ev;

namespace Insights.Attribution.Tests.Engine;

/// <summary>Every model's money on hand-checked scenarios (numbers worked out on paper; see each test).</summary>
public sealed class ModelTests
{
    private const string Last = AttributionModels.LastChat;
    private const string First = AttributionModels.FirstChat;
    private const string Linear = AttributionModels.Linear;
    private const string Decay = AttributionModels.TimeDecay;
    private const string Assisted = AttributionModels.ChatAssisted;
    private const string During = AttributionModels.DuringChat;

    [Fact]
    public void Three_chats_before_an_order_are_credited_under_every_model()
    {
        // v1 chats 72 h, 24 h and 2 h before a 300.00 USD order; the last chat ended 30 min before it.
        var h = new Harness();
        h.Run(
            ChatStarted("c1", "v1", T.Hours(-72), agent: "ann"),
            ChatStarted("c2", "v1", T.Hours(-24), agent: "bob", channel: "whatsapp"),
            ChatStarted("c3", "v1", T.Hours(-2), agent: "ann"),
            ChatEnded("c3", "v1", T.Hours(-0.5)),
            Order("o1", "v1", T, 300.00m));

        Assert.Equal(new Dictionary<string, decimal> { ["c3"] = 300m }, h.Store.Amounts("o1", Last));
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 300m }, h.Store.Amounts("o1", First));
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 100m, ["c2"] = 100m, ["c3"] = 100m }, h.Store.Amounts("o1", Linear));
        // Weights 2^(-70/24), 2^(-22/24), 1 = 0.132433, 0.529732, 1 (relative to the youngest chat); shares 0.079675,
        // 0.318700, 0.601625 of 3,000,000 units of 0.0001 floor to 239024, 956099, 1804875 (2 units short); the two
        // largest remainders (.88 and .58) get one each.
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 23.9025m, ["c2"] = 95.6099m, ["c3"] = 180.4876m }, h.Store.Amounts("o1", Decay));
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 300m, ["c2"] = 300m, ["c3"] = 300m }, h.Store.Amounts("o1", Assisted));
        Assert.Equal(new Dictionary<string, decimal> { ["c3"] = 300m }, h.Store.Amounts("o1", During));

        var decay = h.Store.Credits("o1", Decay);
        Assert.Equal(0.079675, decay[0].Share, 6);
        Assert.Equal(0.318700, decay[1].Share, 6);
        Assert.Equal(0.601625, decay[2].Share, 6);

        // Every chat in the window has a row under every model (zeros included), each in both currencies.
        Assert.Equal(18, h.Store.AllCredits.Count);
        Assert.All(h.Store.AllCredits, c => Assert.Equal(c.Amount, c.AmountReporting));
        Assert.All(h.Store.AllCredits, c => Assert.Equal(Confidence.High, c.Confidence));
        Assert.Equal("whatsapp", h.Store.Credits("o1", Last).Single(c => c.ChatId == "c2").Channel);
        Assert.Equal(3u, h.Store.Order("o1")!.ChatsInWindow);
    }

    [Fact]
    public void A_linear_split_that_does_not_divide_adds_up_to_the_order_exactly()
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "v1", T.Hours(-3)), ChatStarted("c2", "v1", T.Hours(-2)), ChatStarted("c3", "v1", T.Hours(-1)),
            Order("o1", "v1", T, 100.00m));

        // 1,000,000 units / 3 = 333,333 r 1: the first part gets the spare unit.
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 33.3334m, ["c2"] = 33.3333m, ["c3"] = 33.3333m }, h.Store.Amounts("o1", Linear));
        Assert.Equal(100m, h.Store.Credits("o1", Decay).Sum(c => c.Amount));
    }

    [Theory]
    [InlineData(-7 * 24 * 60 * 60 * 1000.0, true)] // exactly 7 days before: in
    [InlineData(-7 * 24 * 60 * 60 * 1000.0 - 1, false)] // a millisecond more: out
    [InlineData(0.0, true)] // at the very moment of the order: in
    [InlineData(1.0, false)] // a millisecond after the order: a support chat, not a sale
    public void The_window_includes_both_edges(double offsetMs, bool credited)
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "v1", T.AddMilliseconds(offsetMs)), Order("o1", "v1", T, 50m));

        Assert.Equal(credited ? new Dictionary<string, decimal> { ["c1"] = 50m } : [], h.Store.Amounts("o1", Last));
        Assert.Equal(credited ? 1u : 0u, h.Store.Order("o1")!.ChatsInWindow);
    }

    [Fact]
    public void A_site_window_of_two_days_leaves_out_a_chat_three_days_before()
    {
        var h = new Harness(site => site.AttributionWindowDays = 2);
        h.Run(ChatStarted("old", "v1", T.Days(-3)), ChatStarted("new", "v1", T.Days(-1)), Order("o1", "v1", T, 80m));

        Assert.Equal(new Dictionary<string, decimal> { ["new"] = 80m }, h.Store.Amounts("o1", First));
    }

    [Fact]
    public void A_configured_half_life_changes_the_time_decay_split()
    {
        // Half-life 12 h: chats 12 h and 0 h before weigh 0.5 and 1, so 1/3 and 2/3 of 90.00.
        var h = new Harness(site => site.TimeDecayHalfLifeHours = 12);
        h.Run(ChatStarted("c1", "v1", T.Hours(-12)), ChatStarted("c2", "v1", T), Order("o1", "v1", T, 90m));

        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 30m, ["c2"] = 60m }, h.Store.Amounts("o1", Decay));
    }

    [Theory]
    [InlineData(-0.5, true)] // ended 30 min before the order: within the hour
    [InlineData(-1.0, true)] // exactly an hour: still in
    [InlineData(-1.01, false)] // just over an hour: chat-assisted, not during
    public void During_chat_means_open_or_ended_within_an_hour(double endedHoursBeforeOrder, bool during)
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "v1", T.Hours(-3)), ChatEnded("c1", "v1", T.Hours(endedHoursBeforeOrder)), Order("o1", "v1", T, 40m));

        Assert.Equal(during ? new Dictionary<string, decimal> { ["c1"] = 40m } : [], h.Store.Amounts("o1", During));
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 40m }, h.Store.Amounts("o1", Assisted));
    }

    [Fact]
    public void An_order_placed_while_a_chat_is_still_open_is_during_it_and_the_latest_open_chat_wins()
    {
        var h = new Harness();
        h.Run(
            ChatStarted("c1", "v1", T.Hours(-0.8)), ChatMessage("c1", "v1", T.Hours(-0.7)),
            ChatStarted("c2", "v1", T.Hours(-0.2)), ChatMessage("c2", "v1", T.Hours(-0.1)),
            Order("o1", "v1", T, 25m));

        Assert.Equal(new Dictionary<string, decimal> { ["c2"] = 25m }, h.Store.Amounts("o1", During));
    }

    [Fact]
    public void An_order_without_chats_has_no_credits_but_is_an_order()
    {
        var h = new Harness();
        h.Run(ChatStarted("c9", "other", T.Hours(-1)), Order("o1", "v1", T, 10m));

        Assert.Empty(h.Store.Credits("o1"));
        Assert.Equal(10m, h.Store.Order("o1")!.Order.Net);
        Assert.Equal(0u, h.Store.Order("o1")!.ChatsInWindow);
    }

    [Fact]
    public void Two_currencies_keep_the_order_currency_and_convert_at_the_site_rates()
    {
        // EUR at 1.10 and GBP at 1.25 USD; JPY has no rate.
        var h = new Harness();
        h.Run(
            ChatStarted("c1", "v1", T.Hours(-2)), ChatStarted("c2", "v1", T.Hours(-1)),
            Order("eu", "v1", T, 99.99m, "EUR"),
            Order("uk", "v1", T.Hours(1), 10.01m, "gbp"),
            Order("jp", "v1", T.Hours(2), 5000m, "JPY"));

        var eu = h.Store.Credits("eu", Linear);
        Assert.All(eu, c => Assert.Equal("EUR", c.Currency));
        Assert.Equal([49.9950m, 49.9950m], eu.Select(c => c.Amount));
        // 99.99 EUR = 109.989 USD, split 54.9945 + 54.9945.
        Assert.Equal(109.989m, h.Store.Order("eu")!.Order.NetReporting);
        Assert.Equal([54.9945m, 54.9945m], eu.Select(c => c.AmountReporting));
        // 10.01 GBP = 12.5125 USD; 5.005 GBP each, 6.25625 → 6.2563 + 6.2562 (remainders tie: earlier chat first).
        var uk = h.Store.Credits("uk", Linear);
        Assert.Equal([5.0050m, 5.0050m], uk.Select(c => c.Amount));
        Assert.Equal([6.2563m, 6.2562m], uk.Select(c => c.AmountReporting));
        Assert.Equal("GBP", h.Store.Order("uk")!.Order.Currency);
        // No rate: the order keeps its yen, the reporting amounts are unknown rather than wrong.
        Assert.Equal(5000m, h.Store.Amounts("jp", Last).Values.Single());
        Assert.Null(h.Store.Order("jp")!.Order.NetReporting);
        Assert.All(h.Store.Credits("jp"), c => Assert.Null(c.AmountReporting));
    }

    [Fact]
    public void A_refund_reduces_every_credit_and_a_cancellation_zeroes_them()
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "v1", T.Hours(-2)), ChatStarted("c2", "v1", T.Hours(-1)), Order("o1", "v1", T, 200m, "EUR"));
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 100m, ["c2"] = 100m }, h.Store.Amounts("o1", Linear));

        h.Run(Refund("o1", T.Days(2), 50m, "EUR"));

        var order = h.Store.Order("o1")!.Order;
        Assert.Equal((200m, 50m, 150m, 165m), (order.Amount, order.Refunded, order.Net, order.NetReporting!.Value));
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 75m, ["c2"] = 75m }, h.Store.Amounts("o1", Linear));
        Assert.Equal([82.5m, 82.5m], h.Store.Credits("o1", Linear).Select(c => c.AmountReporting));
        Assert.Equal(new Dictionary<string, decimal> { ["c2"] = 150m }, h.Store.Amounts("o1", Last));

        // A refund in USD of a EUR order is converted into EUR: 22.00 USD = 20.00 EUR.
        h.Run(Refund("o1", T.Days(3), 22m, "USD"));
        Assert.Equal(130m, h.Store.Order("o1")!.Order.Net);

        h.Run(Cancel("o1", T.Days(4)));
        Assert.True(h.Store.Order("o1")!.Order.Cancelled);
        Assert.Empty(h.Store.Amounts("o1", Linear));
        Assert.All(h.Store.Credits("o1"), c => Assert.Equal(0m, c.Amount));
    }

    [Fact]
    public void Refunds_never_take_an_order_below_zero()
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "v1", T.Hours(-1)), Order("o1", "v1", T, 30m), Refund("o1", T.Hours(1), 20m), Refund("o1", T.Hours(2), 20m));

        Assert.Equal((30m, 0m), (h.Store.Order("o1")!.Order.Refunded, h.Store.Order("o1")!.Order.Net));
    }

    [Fact]
    public void A_refund_that_arrives_before_its_order_is_applied_when_the_order_comes()
    {
        var h = new Harness();
        h.Run(Refund("o1", T.Hours(1), 10m));
        Assert.Null(h.Store.Order("o1"));

        h.Run(ChatStarted("c1", "v1", T.Hours(-1)), Order("o1", "v1", T, 60m));

        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 50m }, h.Store.Amounts("o1", Last));
    }

    [Fact]
    public void A_re_sent_order_takes_the_latest_amount_and_keeps_the_first_placement_time()
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "v1", T.Hours(-1)), Order("o1", "v1", T, 60m), Order("o1", "v1", T.Hours(1), 65m));

        var order = h.Store.Order("o1")!.Order;
        Assert.Equal((T.UtcDateTime, 65m), (order.PlacedAt, order.Amount));
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 65m }, h.Store.Amounts("o1", Last));
    }
}
