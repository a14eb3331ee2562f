namespace Insights.Attribution.Engine;

/// <summary>
/// A batch of events turned into facts, before anything is loaded: the links, chat and order events it states, the
/// goal completions it makes by itself, and per site the nodes whose components must be loaded to attribute it.
/// </summary>
public sealed class PreparedBatch
{
    private readonly Dictionary<string, HashSet<string>> seeds = new(StringComparer.Ordinal);

    public int Events { get; internal set; }

    /// <summary>Per site, the nodes the batch touched in a way that can change attribution.</summary>
    public IReadOnlyDictionary<string, HashSet<string>> Seeds => seeds;

    public List<LinkFact> Links { get; } = [];

    public List<ChatEventFact> ChatEvents { get; } = [];

    public List<OrderEventFact> OrderEvents { get; } = [];

    public List<GoalCompletionRow> GoalCompletions { get; } = [];

    /// <summary>Events left out of attribution, by reason (a metric tag): an id or amount no row can hold.</summary>
    public Dictionary<string, int> Skipped { get; } = new(StringComparer.Ordinal);

    public bool IsEmpty => seeds.Count == 0 && GoalCompletions.Count == 0;

    internal void Seed(string site, string node)
    {
        if (!seeds.TryGetValue(site, out var nodes))
        {
            nodes = new HashSet<string>(StringComparer.Ordinal);
            seeds[site] = nodes;
        }

        nodes.Add(node);
    }

    internal void Skip(string reason) => Skipped[reason] = Skipped.GetValueOrDefault(reason) + 1;
}

/// <summary>Why an event was left out of attribution (it is still stored by the processors).</summary>
public static class SkipReasons
{
    public const string MissingChatId = "missing_chat_id";
    public const string MissingOrderId = "missing_order_id";
    public const string InvalidAmount = "invalid_amount";
    public const string InvalidCurrency = "invalid_currency";
}
