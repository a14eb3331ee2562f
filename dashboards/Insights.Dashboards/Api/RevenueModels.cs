namespace Insights.Dashboards.Api;

// The query API's sales, goals and orders JSON as the Revenue and Goals pages read it (/sales, /goals, /orders,
// /orders/{id}). Like Models.cs: the app's own records; lists default to empty and fields a report may not send yet are
// nullable, so a page leaves a panel out instead of failing.

/// <summary>The attribution models, in the API's order, with what a person calls them and what each credits.</summary>
public static class AttributionModels
{
    public const string Default = "last_chat";

    public static readonly IReadOnlyList<(string Key, string Label, string Explanation)> All =
    [
        ("last_chat", "Last chat", "the whole order to the last chat before it"),
        ("first_chat", "First chat", "the whole order to the first chat in the window"),
        ("linear", "Linear", "the order shared equally by every chat in the window"),
        ("time_decay", "Time decay", "shared, with chats closer to the order weighing more"),
        ("chat_assisted", "Assisted", "every order with any chat in its window"),
        ("during_chat", "During chat", "orders placed while a chat was going on"),
    ];

    public static string Label(string? model) => All.FirstOrDefault(m => m.Key == model).Label ?? model ?? "";

    /// <summary>The model named in a query string, or the default for anything else (the API would refuse it).</summary>
    public static string Parse(string? model) => All.Any(m => m.Key == model) ? model! : Default;
}

public sealed record SalesReport
{
    public string Site { get; init; } = "";
    public string? TimeZone { get; init; }
    public DateTimeOffset From { get; init; }
    public DateTimeOffset To { get; init; }
    public string Model { get; init; } = AttributionModels.Default;
    public string Currency { get; init; } = "";
    public long Orders { get; init; }
    public long CancelledOrders { get; init; }
    public decimal Revenue { get; init; }
    public decimal Refunds { get; init; }
    public decimal AverageOrderValue { get; init; }
    public decimal ChatAttributedRevenue { get; init; }
    public long ChatAttributedOrders { get; init; }
    public double? ChatAttributedShare { get; init; }
    public long UnconvertedOrders { get; init; }
    public SalesConversion? Conversion { get; init; }
    public IReadOnlyList<AttributedGroup> ByAgent { get; init; } = [];
    public IReadOnlyList<AttributedGroup> ByChannel { get; init; } = [];
    public IReadOnlyList<SalesDay> ByDay { get; init; } = [];
}

public sealed record SalesConversion(long Visitors, long ChattedVisitors, long ChattedBuyers, double ChattedConversionRate,
    long NotChattedVisitors, long NotChattedBuyers, double NotChattedConversionRate);

public sealed record AttributedGroup(string Key, decimal Revenue, long Orders, long Chats);

public sealed record SalesDay(DateOnly Date, long Orders, decimal Revenue, decimal ChatAttributedRevenue);

public sealed record GoalsReport
{
    public string Site { get; init; } = "";
    public DateTimeOffset From { get; init; }
    public DateTimeOffset To { get; init; }
    public string Currency { get; init; } = "";
    public int? AttributionWindowDays { get; init; }
    public long Visitors { get; init; }
    public IReadOnlyList<GoalStats> Goals { get; init; } = [];
}

public sealed record GoalStats
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public string Kind { get; init; } = "";
    public long Completions { get; init; }
    public long Converted { get; init; }
    public double ConversionRate { get; init; }
    public decimal Value { get; init; }
    public long ChatAssistedCompletions { get; init; }
    public double ChatAssistedShare { get; init; }

    /// <summary>Every day of the range (absent from an API without goal series: the page then shows no chart).</summary>
    public IReadOnlyList<GoalDay>? Series { get; init; }
}

public sealed record GoalDay(DateOnly Date, long Completions, long Converted, decimal Value, long ChatAssistedCompletions);

public sealed record OrderList
{
    public string Model { get; init; } = AttributionModels.Default;
    public string ReportingCurrency { get; init; } = "";
    public long Total { get; init; }
    public IReadOnlyList<OrderListItem> Orders { get; init; } = [];
}

public sealed record OrderListItem
{
    public string OrderId { get; init; } = "";
    public DateTimeOffset PlacedAt { get; init; }
    public string Currency { get; init; } = "";
    public decimal Amount { get; init; }
    public decimal Net { get; init; }
    public bool Cancelled { get; init; }
    public decimal? NetReporting { get; init; }
    public long ChatsInWindow { get; init; }
    public decimal AttributedRevenue { get; init; }
    public IReadOnlyList<OrderModelCredit> Credits { get; init; } = [];
}

public sealed record OrderModelCredit(string Model, decimal AmountReporting, long Chats);

public sealed record OrderPath
{
    public string OrderId { get; init; } = "";
    public DateTimeOffset PlacedAt { get; init; }
    public string Currency { get; init; } = "";
    public decimal Amount { get; init; }
    public decimal Refunded { get; init; }
    public bool Cancelled { get; init; }
    public decimal Net { get; init; }
    public string ReportingCurrency { get; init; } = "";
    public decimal? NetReporting { get; init; }
    public string? Source { get; init; }
    public int? AttributionWindowDays { get; init; }
    public IReadOnlyList<OrderPathEvent> Events { get; init; } = [];
    public IReadOnlyList<OrderPathVisit> Sessions { get; init; } = [];
    public IReadOnlyList<OrderPathChat> Chats { get; init; } = [];
}

public sealed record OrderPathEvent(string EventId, string Type, DateTimeOffset Timestamp, decimal Amount, string Currency);

public sealed record OrderPathVisit(string SessionId, DateTimeOffset Start, DateTimeOffset End, string? ReferrerHost, string? UtmSource, IReadOnlyList<OrderPathPage>? Pages);

public sealed record OrderPathPage(DateTimeOffset Timestamp, string Path, string? Title);

public sealed record OrderPathChat(string ChatId, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string? AgentId, string? Channel, long Messages,
    string? Confidence, IReadOnlyList<OrderPathCredit>? Credits);

public sealed record OrderPathCredit(string Model, double Share, decimal Amount, decimal? AmountReporting);
