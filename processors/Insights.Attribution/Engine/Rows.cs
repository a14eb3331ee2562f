namespace Insights.Attribution.Engine;

/// <summary>
/// A node's person as last computed (<c>identities</c>). <see cref="Version"/> is the number of facts the computation
/// saw, which only grows as facts are added, so the most informed row wins on merge whichever was written last.
/// </summary>
public sealed record IdentityRow(string Site, string Id, string PersonId, string StrongPersonId, uint Members, ulong Version);

/// <summary>A chat's summary (<c>chats</c>).</summary>
public sealed record ChatRow(string Site, string PersonId, ChatSummary Chat, ulong Version);

/// <summary>An order's summary (<c>orders</c>) with how many chats fall in its window.</summary>
public sealed record OrderRow(string Site, string PersonId, OrderSummary Order, string ReportingCurrency, uint ChatsInWindow, ulong Version);

/// <summary>One chat's credit for one order under one model (<c>attribution_credits</c>), keyed by order, model and chat.</summary>
public sealed record CreditRow(
    string Site, string OrderId, string Model, string ChatId, double Share, decimal Amount, string Currency, decimal? AmountReporting,
    string ReportingCurrency, DateTime OrderPlacedAt, DateTime ChatStartedAt, string AgentId, string Channel, string PersonId,
    string Confidence, ulong Version);

/// <summary>A goal completion (<c>goal_completions</c>), keyed by goal and the event, chat or order that completed it.</summary>
public sealed record GoalCompletionRow(
    string Site, string GoalId, string Key, DateTime Timestamp, string Node, string AnonymousId, decimal Value, ulong Version);

/// <summary>Link confidence of a credit: whether the chat and the order are joined by stated links only.</summary>
public static class Confidence
{
    public const string High = "high";
    public const string Low = "low";
}

/// <summary>Everything a batch changes, table by table, in the order the shell writes it.</summary>
public sealed class AttributionOutput
{
    public List<LinkFact> Links { get; } = [];

    public List<ChatEventFact> ChatEvents { get; } = [];

    public List<OrderEventFact> OrderEvents { get; } = [];

    public List<IdentityRow> Identities { get; } = [];

    public List<ChatRow> Chats { get; } = [];

    public List<OrderRow> Orders { get; } = [];

    public List<CreditRow> Credits { get; } = [];

    public List<GoalCompletionRow> GoalCompletions { get; } = [];

    public int RowCount => Links.Count + ChatEvents.Count + OrderEvents.Count + Identities.Count + Chats.Count + Orders.Count
        + Credits.Count + GoalCompletions.Count;
}
