using Insights.Contracts;

namespace Insights.Attribution.Engine;

/// <summary>A chat folded from its events: when it ran, who handled it, on which channel, how much was said.</summary>
public sealed record ChatSummary(
    string ChatId,
    DateTime StartedAt,
    DateTime? EndedAt,
    DateTime LastEventAt,
    string AnonymousId,
    string UserId,
    string EmailHash,
    string AgentId,
    string Channel,
    string Source,
    uint Messages,
    uint VisitorMessages,
    uint AgentMessages,
    int? Rating,
    int Events)
{
    /// <summary>
    /// The chat's events in any order, each once, give one summary: started at the earliest event (the
    /// <c>chat_started</c> when there is one), ended at the latest <c>chat_ended</c>, the agent of the latest event that
    /// names one (who handled it last), the first channel and source named, the latest rating.
    /// </summary>
    public static ChatSummary Fold(string chatId, IEnumerable<ChatEventFact> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var ordered = events.OrderBy(e => e.Timestamp).ThenBy(e => e.EventId, StringComparer.Ordinal).ToList();
        if (ordered.Count == 0)
        {
            throw new ArgumentException("A chat needs at least one event.", nameof(events));
        }

        var started = ordered.FirstOrDefault(e => e.Type == EventTypes.ChatStarted)?.Timestamp ?? ordered[0].Timestamp;
        if (ordered[0].Timestamp < started)
        {
            // A message stamped before chat_started (clock skew between sources): the chat began at the earliest sign of it.
            started = ordered[0].Timestamp;
        }

        DateTime? ended = null;
        string anonymous = "", user = "", email = "", agent = "", channel = "", source = "";
        uint messages = 0, visitor = 0, agentMessages = 0;
        int? rating = null;
        foreach (var e in ordered)
        {
            anonymous = First(anonymous, e.AnonymousId);
            user = First(user, e.UserId);
            email = First(email, e.EmailHash);
            channel = First(channel, e.Channel);
            source = First(source, e.Source);
            if (e.AgentId.Length > 0)
            {
                agent = e.AgentId;
            }

            switch (e.Type)
            {
                case EventTypes.ChatEnded:
                    ended = e.Timestamp;
                    break;
                case EventTypes.ChatMessage:
                    messages++;
                    if (e.MessageAuthor == "visitor")
                    {
                        visitor++;
                    }
                    else if (e.MessageAuthor == "agent")
                    {
                        agentMessages++;
                    }

                    break;
                case EventTypes.ChatRated when e.Rating is not null:
                    rating = e.Rating;
                    break;
            }
        }

        return new ChatSummary(chatId, started, ended, ordered[^1].Timestamp, anonymous, user, email, agent, channel, source,
            messages, visitor, agentMessages, rating, ordered.Count);
    }

    /// <summary>Until when an order counts as placed during this chat: its end (or, while it has none, its last event) plus the grace.</summary>
    public DateTime OpenUntil(TimeSpan grace) => (EndedAt ?? LastEventAt) + grace;

    private static string First(string known, string candidate) => known.Length > 0 ? known : candidate;
}

/// <summary>An order folded from its events: placed, the amount, what was refunded, whether it was cancelled.</summary>
public sealed record OrderSummary(
    string OrderId,
    DateTime PlacedAt,
    string Currency,
    decimal Amount,
    decimal Refunded,
    bool Cancelled,
    decimal Net,
    decimal? AmountReporting,
    decimal? NetReporting,
    string AnonymousId,
    string UserId,
    string EmailHash,
    string Coupon,
    string Source,
    int Events,
    int UnconvertibleRefunds)
{
    /// <summary>
    /// The order's events in any order, each once, give one summary, or null while no <c>order</c> event is known (a
    /// refund can arrive before its order). Placed at the earliest <c>order</c> event; amount, currency and coupon from
    /// the latest (a shop re-sends an order when it is paid or edited); refunds add up, converted into the order's
    /// currency when they name another one; a cancellation makes the net amount zero. The net never goes below zero.
    /// </summary>
    public static OrderSummary? Fold(string orderId, IEnumerable<OrderEventFact> events, SiteRules rules)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(rules);
        var ordered = events.OrderBy(e => e.Timestamp).ThenBy(e => e.EventId, StringComparer.Ordinal).ToList();
        var placements = ordered.Where(e => e.Type == EventTypes.Order).ToList();
        if (placements.Count == 0)
        {
            return null;
        }

        var latest = placements[^1];
        var currency = latest.Currency.Length > 0 ? latest.Currency : rules.ReportingCurrency;
        decimal refunded = 0;
        var unconvertible = 0;
        var cancelled = false;
        string anonymous = "", user = "", email = "", coupon = latest.Coupon, source = "";
        foreach (var e in placements.Concat(ordered.Where(e => e.Type != EventTypes.Order)))
        {
            anonymous = anonymous.Length > 0 ? anonymous : e.AnonymousId;
            user = user.Length > 0 ? user : e.UserId;
            email = email.Length > 0 ? email : e.EmailHash;
            source = source.Length > 0 ? source : e.Source;
            switch (e.Type)
            {
                case EventTypes.OrderRefunded:
                    var refundCurrency = e.Currency.Length > 0 ? e.Currency : currency;
                    if (rules.Convert(e.Amount, refundCurrency, currency) is { } inOrderCurrency)
                    {
                        refunded += inOrderCurrency;
                    }
                    else
                    {
                        unconvertible++;
                    }

                    break;
                case EventTypes.OrderCancelled:
                    cancelled = true;
                    break;
            }
        }

        var amount = latest.Amount;
        refunded = Math.Min(refunded, amount);
        var net = cancelled ? 0 : amount - refunded;
        return new OrderSummary(orderId, placements[0].Timestamp, currency, amount, refunded, cancelled, net,
            rules.ToReporting(amount, currency), rules.ToReporting(net, currency), anonymous, user, email, coupon, source,
            ordered.Count, unconvertible);
    }
}
