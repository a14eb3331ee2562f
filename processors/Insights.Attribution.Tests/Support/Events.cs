using Insights.Contracts;

namespace Insights.Attribution.Tests.Support;

/// <summary>Pipeline events as ingest stamps them, short to write in a scenario.</summary>
public static class Ev
{
    public const string Site = "shop";

    /// <summary>The order time most scenarios count back from.</summary>
    public static readonly DateTimeOffset T = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    private static int sequence;

    private static PipelineEvent Make(string type, DateTimeOffset at, string? anonymous, string? id = null) => new()
    {
        EventId = id ?? $"{type}-{Interlocked.Increment(ref sequence):D6}",
        Type = type,
        SiteId = Site,
        AnonymousId = anonymous,
        Timestamp = at,
        ReceivedAt = at,
    };

    public static PipelineEvent ChatStarted(string chat, string? visitor, DateTimeOffset at, string agent = "ann", string channel = "website",
        string? email = null, string? ip = null, string? userAgent = null) =>
        Make(EventTypes.ChatStarted, at, visitor) with { ChatId = chat, AgentId = agent, Channel = channel, EmailHash = email, Ip = ip, UserAgent = userAgent, Source = "livechat" };

    public static PipelineEvent ChatMessage(string chat, string? visitor, DateTimeOffset at, string author = "visitor", string? agent = null) =>
        Make(EventTypes.ChatMessage, at, visitor) with { ChatId = chat, MessageAuthor = author, AgentId = agent };

    public static PipelineEvent ChatEnded(string chat, string? visitor, DateTimeOffset at, string? agent = null) =>
        Make(EventTypes.ChatEnded, at, visitor) with { ChatId = chat, AgentId = agent };

    public static PipelineEvent ChatRated(string chat, string? visitor, DateTimeOffset at, int rating) =>
        Make(EventTypes.ChatRated, at, visitor) with { ChatId = chat, Rating = rating };

    public static PipelineEvent Order(string order, string? visitor, DateTimeOffset at, decimal amount, string currency = "USD",
        string? user = null, string? email = null, string? ip = null, string? userAgent = null, string? id = null) =>
        Make(EventTypes.Order, at, visitor, id) with { OrderId = order, Amount = amount, Currency = currency, UserId = user, EmailHash = email, Ip = ip, UserAgent = userAgent, Source = "api" };

    public static PipelineEvent Refund(string order, DateTimeOffset at, decimal amount, string? currency = null) =>
        Make(EventTypes.OrderRefunded, at, null) with { OrderId = order, Amount = amount, Currency = currency };

    public static PipelineEvent Cancel(string order, DateTimeOffset at) =>
        Make(EventTypes.OrderCancelled, at, null) with { OrderId = order };

    public static PipelineEvent Identify(string? visitor, DateTimeOffset at, string? user = null, string? email = null) =>
        Make(EventTypes.Identify, at, visitor) with { UserId = user, EmailHash = email };

    public static PipelineEvent Alias(string previousId, string user, DateTimeOffset at) =>
        Make(EventTypes.Alias, at, null) with { PreviousId = previousId, UserId = user };

    public static PipelineEvent Pageview(string visitor, DateTimeOffset at, string url = "https://shop.example/", string? ip = null, string? userAgent = null,
        string? user = null) =>
        Make(EventTypes.Pageview, at, visitor) with { Url = url, Ip = ip, UserAgent = userAgent, UserId = user };

    public static PipelineEvent Track(string visitor, DateTimeOffset at, string name) =>
        Make(EventTypes.Track, at, visitor) with { Name = name };

    public static DateTimeOffset Days(this DateTimeOffset at, double days) => at.AddDays(days);

    public static DateTimeOffset Hours(this DateTimeOffset at, double hours) => at.AddHours(hours);
}
