using Insights.Attribution.Engine;

namespace Insights.Attribution.Storage;

/// <summary>
/// The attribution tables' columns as the writer inserts them (explicit types: the driver then never asks the server
/// for them) and each output row as those columns. The schema itself is in storage/…/Migrations/0010–0014.
/// </summary>
public sealed class Table<TRow>(string name, (string Name, string Type)[] columns, Func<TRow, object?[]> row)
{
    public string Name { get; } = name;

    public string[] Columns { get; } = [.. columns.Select(c => c.Name)];

    public Dictionary<string, string> ColumnTypes { get; } = columns.ToDictionary(c => c.Name, c => c.Type, StringComparer.Ordinal);

    public object?[] Row(TRow value) => row(value);
}

public static class Tables
{
    private const string Time = "DateTime64(3, 'UTC')";
    private const string Lc = "LowCardinality(String)";
    private const string Money = "Decimal(18, 4)";

    /// <summary>Each link from both ends: a lookup by either end is a primary-key range.</summary>
    public static readonly Table<(LinkFact Link, bool Reversed)> IdentityLinks = new("identity_links",
        [("site_id", Lc), ("id", "String"), ("linked_id", "String"), ("strength", "UInt8"), ("reason", Lc), ("event_id", "String"), ("linked_at", Time)],
        x => [x.Link.Site, x.Reversed ? x.Link.To : x.Link.From, x.Reversed ? x.Link.From : x.Link.To, (byte)x.Link.Strength, x.Link.Reason,
            x.Link.EventId, x.Link.LinkedAt]);

    public static readonly Table<IdentityRow> Identities = new("identities",
        [("site_id", Lc), ("id", "String"), ("person_id", "String"), ("strong_person_id", "String"), ("members", "UInt32"), ("version", "UInt64")],
        r => [r.Site, r.Id, r.PersonId, r.StrongPersonId, r.Members, r.Version]);

    public static readonly Table<ChatEventFact> ChatEvents = new("chat_events",
        [("site_id", Lc), ("chat_id", "String"), ("event_id", "String"), ("type", Lc), ("timestamp", Time), ("anonymous_id", "String"),
            ("user_id", "String"), ("email_hash", "String"), ("agent_id", "String"), ("channel", Lc), ("source", Lc), ("message_author", Lc),
            ("rating", "Nullable(Int32)")],
        e => [e.Site, e.ChatId, e.EventId, e.Type, e.Timestamp, e.AnonymousId, e.UserId, e.EmailHash, e.AgentId, e.Channel, e.Source,
            e.MessageAuthor, e.Rating]);

    public static readonly Table<OrderEventFact> OrderEvents = new("order_events",
        [("site_id", Lc), ("order_id", "String"), ("event_id", "String"), ("type", Lc), ("timestamp", Time), ("anonymous_id", "String"),
            ("user_id", "String"), ("email_hash", "String"), ("amount", Money), ("currency", Lc), ("coupon", "String"), ("source", Lc)],
        e => [e.Site, e.OrderId, e.EventId, e.Type, e.Timestamp, e.AnonymousId, e.UserId, e.EmailHash, e.Amount, e.Currency, e.Coupon, e.Source]);

    public static readonly Table<ChatRow> Chats = new("chats",
        [("site_id", Lc), ("chat_id", "String"), ("person_id", "String"), ("anonymous_id", "String"), ("user_id", "String"), ("email_hash", "String"),
            ("agent_id", "String"), ("channel", Lc), ("source", Lc), ("started_at", Time), ("ended_at", $"Nullable({Time})"), ("last_event_at", Time),
            ("messages", "UInt32"), ("visitor_messages", "UInt32"), ("agent_messages", "UInt32"), ("rating", "Nullable(Int32)"), ("events", "UInt32"),
            ("version", "UInt64")],
        r => [r.Site, r.Chat.ChatId, r.PersonId, r.Chat.AnonymousId, r.Chat.UserId, r.Chat.EmailHash, r.Chat.AgentId, r.Chat.Channel, r.Chat.Source,
            r.Chat.StartedAt, r.Chat.EndedAt, r.Chat.LastEventAt, r.Chat.Messages, r.Chat.VisitorMessages, r.Chat.AgentMessages, r.Chat.Rating,
            (uint)r.Chat.Events, r.Version]);

    public static readonly Table<OrderRow> Orders = new("orders",
        [("site_id", Lc), ("order_id", "String"), ("person_id", "String"), ("anonymous_id", "String"), ("user_id", "String"), ("email_hash", "String"),
            ("placed_at", Time), ("currency", Lc), ("amount", Money), ("refunded", Money), ("cancelled", "Bool"), ("net", Money),
            ("reporting_currency", Lc), ("amount_reporting", $"Nullable({Money})"), ("net_reporting", $"Nullable({Money})"), ("coupon", "String"),
            ("source", Lc), ("chats_in_window", "UInt32"), ("events", "UInt32"), ("version", "UInt64")],
        r => [r.Site, r.Order.OrderId, r.PersonId, r.Order.AnonymousId, r.Order.UserId, r.Order.EmailHash, r.Order.PlacedAt, r.Order.Currency,
            r.Order.Amount, r.Order.Refunded, r.Order.Cancelled, r.Order.Net, r.ReportingCurrency, r.Order.AmountReporting, r.Order.NetReporting,
            r.Order.Coupon, r.Order.Source, r.ChatsInWindow, (uint)r.Order.Events, r.Version]);

    public static readonly Table<CreditRow> Credits = new("attribution_credits",
        [("site_id", Lc), ("order_id", "String"), ("model", Lc), ("chat_id", "String"), ("share", "Float64"), ("amount", Money), ("currency", Lc),
            ("amount_reporting", $"Nullable({Money})"), ("reporting_currency", Lc), ("order_placed_at", Time), ("chat_started_at", Time),
            ("agent_id", "String"), ("channel", Lc), ("person_id", "String"), ("confidence", Lc), ("version", "UInt64")],
        r => [r.Site, r.OrderId, r.Model, r.ChatId, r.Share, r.Amount, r.Currency, r.AmountReporting, r.ReportingCurrency, r.OrderPlacedAt,
            r.ChatStartedAt, r.AgentId, r.Channel, r.PersonId, r.Confidence, r.Version]);

    public static readonly Table<GoalCompletionRow> GoalCompletions = new("goal_completions",
        [("site_id", Lc), ("goal_id", "String"), ("key", "String"), ("timestamp", Time), ("node", "String"), ("anonymous_id", "String"),
            ("value", Money), ("version", "UInt64")],
        r => [r.Site, r.GoalId, r.Key, r.Timestamp, r.Node, r.AnonymousId, r.Value, r.Version]);
}
