namespace Insights.Attribution.Engine;

/// <summary>
/// The facts the engine computes from: links, chat events and order events, per site, each once (keyed by its ends
/// or its event id). Filled from storage for the components a batch touches, then with the batch's own facts.
/// Adding a fact twice is harmless; that is how replays and overlapping loads stay correct.
/// </summary>
public sealed class FactSet
{
    private readonly Dictionary<string, SiteFacts> sites = new(StringComparer.Ordinal);

    public IEnumerable<SiteFacts> Sites => sites.Values;

    public SiteFacts Site(string site)
    {
        if (!sites.TryGetValue(site, out var facts))
        {
            facts = new SiteFacts(site);
            sites[site] = facts;
        }

        return facts;
    }

    public bool TryGetSite(string site, out SiteFacts facts) => sites.TryGetValue(site, out facts!);

    public bool AddLink(LinkFact link) => Site(link.Site).AddLink(link);

    public bool AddChatEvent(ChatEventFact e) => Site(e.Site).AddChatEvent(e);

    public bool AddOrderEvent(OrderEventFact e) => Site(e.Site).AddOrderEvent(e);
}

/// <summary>One site's facts: an adjacency list of links and the chat and order events by chat and order.</summary>
public sealed class SiteFacts(string site)
{
    private readonly Dictionary<string, Dictionary<string, LinkFact>> adjacency = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, ChatEventFact>> chatEvents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, OrderEventFact>> orderEvents = new(StringComparer.Ordinal);

    public string Site { get; } = site;

    public IReadOnlyCollection<string> LinkedNodes => adjacency.Keys;

    /// <summary>Adds a link, or strengthens a known one. True when the graph changed.</summary>
    public bool AddLink(LinkFact link)
    {
        ArgumentNullException.ThrowIfNull(link);
        if (string.Equals(link.From, link.To, StringComparison.Ordinal))
        {
            return false;
        }

        var normalized = link.Normalized();
        var changed = Put(normalized.From, normalized.To, normalized);
        Put(normalized.To, normalized.From, normalized);
        return changed;
    }

    private bool Put(string from, string to, LinkFact link)
    {
        if (!adjacency.TryGetValue(from, out var edges))
        {
            edges = new Dictionary<string, LinkFact>(StringComparer.Ordinal);
            adjacency[from] = edges;
        }

        if (edges.TryGetValue(to, out var known) && known.Strength >= link.Strength)
        {
            return false;
        }

        edges[to] = link;
        return true;
    }

    public bool HasLink(string a, string b, LinkStrength atLeast) =>
        adjacency.TryGetValue(a, out var edges) && edges.TryGetValue(b, out var link) && link.Strength >= atLeast;

    /// <summary>The links of a node (each once, normalized), or none.</summary>
    public IEnumerable<LinkFact> LinksOf(string node) =>
        adjacency.TryGetValue(node, out var edges) ? edges.Values : [];

    public bool AddChatEvent(ChatEventFact e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!chatEvents.TryGetValue(e.ChatId, out var events))
        {
            events = new Dictionary<string, ChatEventFact>(StringComparer.Ordinal);
            chatEvents[e.ChatId] = events;
        }

        return events.TryAdd(e.EventId, e);
    }

    public bool AddOrderEvent(OrderEventFact e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!orderEvents.TryGetValue(e.OrderId, out var events))
        {
            events = new Dictionary<string, OrderEventFact>(StringComparer.Ordinal);
            orderEvents[e.OrderId] = events;
        }

        return events.TryAdd(e.EventId, e);
    }

    public IReadOnlyCollection<ChatEventFact> ChatEvents(string chatId) =>
        chatEvents.TryGetValue(chatId, out var events) ? events.Values : [];

    public IReadOnlyCollection<OrderEventFact> OrderEvents(string orderId) =>
        orderEvents.TryGetValue(orderId, out var events) ? events.Values : [];

    /// <summary>Every node the facts mention: linked nodes, and chats and orders known only by their events.</summary>
    public IEnumerable<string> Nodes()
    {
        var seen = new HashSet<string>(adjacency.Keys, StringComparer.Ordinal);
        foreach (var chat in chatEvents.Keys)
        {
            seen.Add(Node.Chat(chat));
        }

        foreach (var order in orderEvents.Keys)
        {
            seen.Add(Node.Order(order));
        }

        return seen;
    }

    /// <summary>Every link of the site, once each.</summary>
    public IEnumerable<LinkFact> Links()
    {
        foreach (var (node, edges) in adjacency)
        {
            foreach (var (other, link) in edges)
            {
                if (string.CompareOrdinal(node, other) < 0)
                {
                    yield return link;
                }
            }
        }
    }
}
