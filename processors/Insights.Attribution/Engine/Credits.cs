namespace Insights.Attribution.Engine;

/// <summary>The attribution models; every order is credited under all of them at once.</summary>
public static class AttributionModels
{
    /// <summary>All of the order to the latest chat in the window.</summary>
    public const string LastChat = "last_chat";

    /// <summary>All of the order to the earliest chat in the window.</summary>
    public const string FirstChat = "first_chat";

    /// <summary>Equal parts to every chat in the window.</summary>
    public const string Linear = "linear";

    /// <summary>Parts halving with every half-life a chat started before the order.</summary>
    public const string TimeDecay = "time_decay";

    /// <summary>The whole order to every chat in the window: "this chat assisted a sale of X". Not additive over chats.</summary>
    public const string ChatAssisted = "chat_assisted";

    /// <summary>All of the order to the latest chat that was open when it was placed, or had ended within the grace before.</summary>
    public const string DuringChat = "during_chat";

    public static readonly IReadOnlyList<string> All = [LastChat, FirstChat, Linear, TimeDecay, ChatAssisted, DuringChat];

    /// <summary>Models whose credits add up to the order (summing them over chats gives attributed revenue).</summary>
    public static bool IsAdditive(string model) => model != ChatAssisted;
}

/// <summary>One chat's credit for one order under one model: its share and the money that share is worth.</summary>
public sealed record Credit(string Model, string ChatId, double Share, decimal Amount, decimal? AmountReporting);

/// <summary>The models' arithmetic: which chats are in an order's window, and each one's credit under each model.</summary>
public static class CreditCalculator
{
    /// <summary>
    /// Chats that started no later than the order and no earlier than the window before it (both edges included),
    /// oldest first; ties by chat id, so "first" and "last" never depend on load order.
    /// </summary>
    public static List<ChatSummary> ChatsInWindow(OrderSummary order, IEnumerable<ChatSummary> chats, SiteRules rules)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(rules);
        var earliest = order.PlacedAt - rules.Window;
        return chats
            .Where(c => c.StartedAt <= order.PlacedAt && c.StartedAt >= earliest)
            .OrderBy(c => c.StartedAt)
            .ThenBy(c => c.ChatId, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Every model's credit for every chat in <paramref name="inWindow"/> (as <see cref="ChatsInWindow"/> returns
    /// them), zero credits included: a chat that lost "last chat" to a later one must be written with zero to replace
    /// its earlier row. Amounts split the order's net amount (and, when convertible, its net in the reporting currency)
    /// to the last 0.0001.
    /// </summary>
    public static List<Credit> Compute(OrderSummary order, IReadOnlyList<ChatSummary> inWindow, SiteRules rules)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(inWindow);
        ArgumentNullException.ThrowIfNull(rules);
        var credits = new List<Credit>(inWindow.Count * AttributionModels.All.Count);
        var n = inWindow.Count;
        if (n == 0)
        {
            return credits;
        }

        var last = new double[n];
        last[n - 1] = 1;
        var first = new double[n];
        first[0] = 1;
        var linear = Enumerable.Repeat(1.0, n).ToArray();
        var assisted = linear;
        var decay = DecayWeights(order, inWindow, rules.HalfLife);
        var during = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            if (order.PlacedAt <= inWindow[i].OpenUntil(rules.DuringChatGrace))
            {
                during[i] = 1;
                break;
            }
        }

        Add(AttributionModels.LastChat, last, split: true);
        Add(AttributionModels.FirstChat, first, split: true);
        Add(AttributionModels.Linear, linear, split: true);
        Add(AttributionModels.TimeDecay, decay, split: true);
        Add(AttributionModels.ChatAssisted, assisted, split: false);
        Add(AttributionModels.DuringChat, during, split: true);
        return credits;

        void Add(string model, double[] weights, bool split)
        {
            var sum = weights.Sum();
            var amounts = split && sum > 0 ? Money.Allocate(order.Net, weights) : null;
            var reporting = split && sum > 0 && order.NetReporting is { } net ? Money.Allocate(net, weights) : null;
            for (var i = 0; i < n; i++)
            {
                double share;
                decimal amount;
                decimal? amountReporting;
                if (split)
                {
                    share = sum > 0 ? weights[i] / sum : 0;
                    amount = amounts?[i] ?? 0;
                    amountReporting = order.NetReporting is null ? null : reporting?[i] ?? 0;
                }
                else
                {
                    share = weights[i] > 0 ? 1 : 0;
                    amount = weights[i] > 0 ? order.Net : 0;
                    amountReporting = weights[i] > 0 ? order.NetReporting : order.NetReporting is null ? null : 0;
                }

                credits.Add(new Credit(model, inWindow[i].ChatId, share, amount, amountReporting));
            }
        }
    }

    /// <summary>2^(−age / half-life), relative to the youngest chat so that long windows with short half-lives do not underflow to all zeros.</summary>
    private static double[] DecayWeights(OrderSummary order, IReadOnlyList<ChatSummary> chats, TimeSpan halfLife)
    {
        var ages = chats.Select(c => (order.PlacedAt - c.StartedAt).TotalHours).ToArray();
        var youngest = ages.Min();
        return ages.Select(age => Math.Pow(2, -(age - youngest) / halfLife.TotalHours)).ToArray();
    }
}
