using Insights.Attribution.Engine;

namespace Insights.Attribution.Tests.Support;

/// <summary>
/// For unit tests of the engine across batches: keeps what a batch's output would store and serves it back the way the
/// stored tables do: facts once each, derived rows as a ReplacingMergeTree read with FINAL shows them (per key, the
/// highest version; the last written among equal versions). Also counts every row written, replays included.
/// </summary>
public sealed class MemoryFactStore : IFactReader
{
    private readonly FactSet facts = new();
    private readonly Dictionary<(string Site, string Order, string Model, string Chat), CreditRow> credits = [];
    private readonly Dictionary<(string Site, string Order), OrderRow> orders = [];
    private readonly Dictionary<(string Site, string Chat), ChatRow> chats = [];
    private readonly Dictionary<(string Site, string Id), IdentityRow> identities = [];
    private readonly Dictionary<(string Site, string Goal, string Key), GoalCompletionRow> completions = [];

    public int CreditRowsWritten { get; private set; }

    public int Loads { get; private set; }

    public void Apply(AttributionOutput output)
    {
        foreach (var link in output.Links)
        {
            facts.AddLink(link);
        }

        foreach (var e in output.ChatEvents)
        {
            facts.AddChatEvent(e);
        }

        foreach (var e in output.OrderEvents)
        {
            facts.AddOrderEvent(e);
        }

        foreach (var row in output.Credits)
        {
            CreditRowsWritten++;
            Replace(credits, (row.Site, row.OrderId, row.Model, row.ChatId), row, row.Version);
        }

        foreach (var row in output.Orders)
        {
            Replace(orders, (row.Site, row.Order.OrderId), row, row.Version);
        }

        foreach (var row in output.Chats)
        {
            Replace(chats, (row.Site, row.Chat.ChatId), row, row.Version);
        }

        foreach (var row in output.Identities)
        {
            Replace(identities, (row.Site, row.Id), row, row.Version);
        }

        foreach (var row in output.GoalCompletions)
        {
            Replace(completions, (row.Site, row.GoalId, row.Key), row, row.Version);
        }
    }

    public IReadOnlyList<CreditRow> Credits(string order, string? model = null) =>
        credits.Values.Where(c => c.OrderId == order && (model is null || c.Model == model)).OrderBy(c => c.ChatStartedAt).ToList();

    /// <summary>Chat id → amount under the model, zero credits left out.</summary>
    public Dictionary<string, decimal> Amounts(string order, string model) =>
        Credits(order, model).Where(c => c.Amount != 0).ToDictionary(c => c.ChatId, c => c.Amount);

    public OrderRow? Order(string order) => orders.Values.SingleOrDefault(o => o.Order.OrderId == order);

    public ChatRow? Chat(string chat) => chats.Values.SingleOrDefault(c => c.Chat.ChatId == chat);

    public IdentityRow? Identity(string node) => identities.Values.SingleOrDefault(i => i.Id == node);

    public IReadOnlyList<GoalCompletionRow> Completions(string goal) => completions.Values.Where(c => c.GoalId == goal).ToList();

    public IReadOnlyList<CreditRow> AllCredits => [.. credits.Values];

    public Task<IReadOnlyList<LinkFact>> LinksAsync(string site, IReadOnlyList<string> nodes, CancellationToken cancellationToken)
    {
        Loads++;
        IReadOnlyList<LinkFact> links = facts.TryGetSite(site, out var s)
            ? nodes.SelectMany(n => s.LinksOf(n).Select(l => l.From == n ? l : l with { From = l.To, To = l.From })).ToList()
            : [];
        return Task.FromResult(links);
    }

    public Task<IReadOnlyList<ChatEventFact>> ChatEventsAsync(string site, IReadOnlyList<string> chatIds, CancellationToken cancellationToken)
    {
        IReadOnlyList<ChatEventFact> events = facts.TryGetSite(site, out var s) ? chatIds.SelectMany(s.ChatEvents).ToList() : [];
        return Task.FromResult(events);
    }

    public Task<IReadOnlyList<OrderEventFact>> OrderEventsAsync(string site, IReadOnlyList<string> orderIds, CancellationToken cancellationToken)
    {
        IReadOnlyList<OrderEventFact> events = facts.TryGetSite(site, out var s) ? orderIds.SelectMany(s.OrderEvents).ToList() : [];
        return Task.FromResult(events);
    }

    private static void Replace<TKey, TRow>(Dictionary<TKey, TRow> table, TKey key, TRow row, ulong version)
        where TKey : notnull
    {
        if (!table.TryGetValue(key, out var known) || VersionOf(known) <= version)
        {
            table[key] = row;
        }
    }

    private static ulong VersionOf<TRow>(TRow row) => row switch
    {
        CreditRow c => c.Version,
        OrderRow o => o.Version,
        ChatRow c => c.Version,
        IdentityRow i => i.Version,
        GoalCompletionRow g => g.Version,
        _ => 0,
    };
}
