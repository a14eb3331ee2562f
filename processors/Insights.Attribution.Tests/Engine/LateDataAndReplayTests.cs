using Insights.Attribution.Engine;
using Insights.Attribution.Tests.Support;
using static Insights.Attribution.Tests.Support.Ev;

namespace Insights.Attribution.Tests.Engine;

/// <summary>What a user sees must not depend on arrival order, batch boundaries or how often a batch was delivered.</summary>
public sealed class LateDataAndReplayTests
{
    [Fact]
    public void A_chat_that_arrives_after_its_order_still_gets_its_credit()
    {
        var h = new Harness();
        h.Run(Order("o1", "v1", T, 120m));
        Assert.Empty(h.Store.Credits("o1"));

        h.Run(ChatStarted("c1", "v1", T.Hours(-5)), ChatEnded("c1", "v1", T.Hours(-4.5)));

        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 120m }, h.Store.Amounts("o1", AttributionModels.LastChat));
        Assert.Equal(1u, h.Store.Order("o1")!.ChatsInWindow);
    }

    [Fact]
    public void A_late_chat_takes_last_chat_from_an_earlier_one_without_doubling_the_revenue()
    {
        var h = new Harness();
        h.Run(ChatStarted("c1", "v1", T.Days(-2)), Order("o1", "v1", T, 100m));
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 100m }, h.Store.Amounts("o1", AttributionModels.LastChat));

        h.Run(ChatStarted("c2", "v1", T.Hours(-1)));

        Assert.Equal(new Dictionary<string, decimal> { ["c2"] = 100m }, h.Store.Amounts("o1", AttributionModels.LastChat));
        Assert.Equal(100m, h.Store.Credits("o1", AttributionModels.LastChat).Sum(c => c.Amount));
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 50m, ["c2"] = 50m }, h.Store.Amounts("o1", AttributionModels.Linear));
    }

    [Fact]
    public void A_chat_end_that_arrives_late_moves_the_order_out_of_during_chat()
    {
        var h = new Harness();
        // Without an end the chat counts as open until an hour after its last event (30 min before the order).
        h.Run(ChatStarted("c1", "v1", T.Hours(-3)), ChatMessage("c1", "v1", T.Hours(-0.5)), Order("o1", "v1", T, 70m));
        Assert.Equal(70m, h.Store.Amounts("o1", AttributionModels.DuringChat)["c1"]);

        // Its real end was 2 h before the order.
        h.Run(ChatEnded("c1", "v1", T.Hours(-2)));

        Assert.Empty(h.Store.Amounts("o1", AttributionModels.DuringChat));
    }

    [Fact]
    public void Replaying_every_batch_changes_no_number()
    {
        var batches = new[]
        {
            new[] { ChatStarted("c1", "v1", T.Days(-3)), Pageview("v1", T.Days(-3)) },
            [Order("o1", "v1", T, 300m), ChatStarted("c2", "v1", T.Hours(-1))],
            [Refund("o1", T.Days(1), 30m), Identify("v1", T, user: "u1")],
        };
        var once = new Harness();
        foreach (var batch in batches)
        {
            once.Run(batch);
        }

        var twice = new Harness();
        foreach (var batch in batches)
        {
            twice.Run(batch);
            twice.Run(batch);
        }

        // The same batches again, cut differently (as after a restart), and again in reverse order.
        var all = batches.SelectMany(b => b).ToArray();
        twice.Run(all[..3]);
        twice.Run(all[3..]);
        foreach (var e in all.Reverse())
        {
            twice.Run(e);
        }

        Assert.True(twice.Store.CreditRowsWritten > once.Store.CreditRowsWritten);
        Assert.Equal(Final(once.Store), Final(twice.Store));
        Assert.Equal(270m, twice.Store.Credits("o1", AttributionModels.Linear).Sum(c => c.Amount));
    }

    [Fact]
    public void Events_in_any_order_and_any_batching_give_the_same_credits()
    {
        var events = new[]
        {
            ChatStarted("c1", "v1", T.Days(-6)), ChatEnded("c1", "v1", T.Days(-6).Hours(1)),
            ChatStarted("c2", "v2", T.Days(-1)), Identify("v2", T.Days(-1), user: "u1"), Identify("v1", T.Days(-5), email: "e1"),
            Order("o1", null, T, 500m, user: "u1", email: "e1"), Refund("o1", T.Days(1), 100m),
            ChatStarted("c3", "v1", T.Hours(-1)), ChatRated("c3", "v1", T.Hours(-0.5), 1),
        };
        var inOrder = new Harness();
        inOrder.Run(events);

        var random = new Random(7);
        for (var round = 0; round < 20; round++)
        {
            var shuffled = events.OrderBy(_ => random.Next()).ToArray();
            var h = new Harness();
            for (var i = 0; i < shuffled.Length;)
            {
                var size = random.Next(1, 4);
                h.Run(shuffled[i..Math.Min(shuffled.Length, i + size)]);
                i += size;
            }

            Assert.Equal(Final(inOrder.Store), Final(h.Store));
        }

        // v1 (c1, c3) and v2 (c2) are one person through u1 and e1; 400.00 net split over three chats.
        Assert.Equal(new Dictionary<string, decimal> { ["c1"] = 133.3334m, ["c2"] = 133.3333m, ["c3"] = 133.3333m },
            inOrder.Store.Amounts("o1", AttributionModels.Linear));
    }

    [Fact]
    public void A_version_never_goes_down_as_facts_are_added()
    {
        var h = new Harness();
        h.Run(Order("o1", "v1", T, 10m));
        var before = h.Store.Order("o1")!.Version;
        h.Run(ChatStarted("c1", "v1", T.Hours(-1)));
        var after = h.Store.Order("o1")!.Version;
        h.Run(ChatStarted("c1", "v1", T.Hours(-1)) with { EventId = h.Last.ChatEvents[0].EventId });

        Assert.True(after > before);
        Assert.Equal(after, h.Last.Orders.Single().Version); // the replayed event is the same fact: same version, same rows
    }

    private static string Final(MemoryFactStore store) => string.Join("\n", store.AllCredits
        .OrderBy(c => (c.OrderId, c.Model, c.ChatId))
        .Select(c => $"{c.OrderId} {c.Model} {c.ChatId} {c.Amount} {c.AmountReporting} {c.Share:F6} {c.PersonId} {c.Confidence} v{c.Version}"));
}
