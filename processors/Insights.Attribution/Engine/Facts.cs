namespace Insights.Attribution.Engine;

/// <summary>How sure a link between two nodes is. Stored as a number so the stronger of two copies wins on merge.</summary>
public enum LinkStrength : byte
{
    /// <summary>Guessed: the same IP address and user agent within minutes.</summary>
    Weak = 1,

    /// <summary>Stated: both ids arrived on one event (identify, a logged-in page view, a chat, an order).</summary>
    Strong = 2,
}

/// <summary>
/// One edge of a site's identity graph, with the event that first stated it. Links are only ever added (a stronger copy
/// replaces a weaker one), which is what makes every derived row a function of a growing set of facts.
/// </summary>
public sealed record LinkFact(string Site, string From, string To, LinkStrength Strength, string Reason, string EventId, DateTime LinkedAt)
{
    /// <summary>The same link with its ends in ordinal order, so both directions of one link are one fact.</summary>
    public LinkFact Normalized() => string.CompareOrdinal(From, To) <= 0 ? this : this with { From = To, To = From };
}

/// <summary>Why two nodes are linked; a tag on the stored link for people reading the graph.</summary>
public static class LinkReasons
{
    public const string Identify = "identify";
    public const string Alias = "alias";
    public const string Event = "event";
    public const string Chat = "chat";
    public const string Order = "order";
    public const string SameIpAndUserAgent = "ip_user_agent";
}

/// <summary>One chat event as stored (<c>chat_events</c>): the facts a chat's summary is folded from. No message text.</summary>
public sealed record ChatEventFact(
    string Site, string ChatId, string EventId, string Type, DateTime Timestamp,
    string AnonymousId, string UserId, string EmailHash, string AgentId, string Channel, string Source, string MessageAuthor, int? Rating);

/// <summary>One order event as stored (<c>order_events</c>): placed, refunded or cancelled, with its amount in its currency.</summary>
public sealed record OrderEventFact(
    string Site, string OrderId, string EventId, string Type, DateTime Timestamp,
    string AnonymousId, string UserId, string EmailHash, decimal Amount, string Currency, string Coupon, string Source);
