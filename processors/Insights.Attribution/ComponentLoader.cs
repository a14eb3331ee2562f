using Insights.Attribution.Engine;

namespace Insights.Attribution;

/// <summary>Reads stored facts by node, chat and order (ClickHouse in the service).</summary>
public interface IFactReader
{
    /// <summary>The stored links of the given nodes, from each node's side.</summary>
    Task<IReadOnlyList<LinkFact>> LinksAsync(string site, IReadOnlyList<string> nodes, CancellationToken cancellationToken);

    Task<IReadOnlyList<ChatEventFact>> ChatEventsAsync(string site, IReadOnlyList<string> chatIds, CancellationToken cancellationToken);

    Task<IReadOnlyList<OrderEventFact>> OrderEventsAsync(string site, IReadOnlyList<string> orderIds, CancellationToken cancellationToken);
}

/// <summary>What a load found: how many nodes, in how many rounds, and whether a component was cut at the cap.</summary>
public readonly record struct LoadStats(int Nodes, int Rounds, bool Truncated);

/// <summary>
/// Loads the whole stored component of every node a batch touched: breadth-first over the stored links and the batch's
/// own (which may join two stored components), one query per round, then every chat and order event of the chat and
/// order nodes found. The result is exactly the facts the engine needs, wherever they were written and by whom.
/// </summary>
public static class ComponentLoader
{
    public static async Task<(FactSet Facts, LoadStats Stats)> LoadAsync(
        PreparedBatch batch, IFactReader reader, int maxNodesPerSite, int maxRounds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(reader);
        var facts = new FactSet();
        int nodes = 0, rounds = 0;
        var truncated = false;

        foreach (var (site, seeds) in batch.Seeds)
        {
            var batchLinks = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var link in batch.Links)
            {
                if (string.Equals(link.Site, site, StringComparison.Ordinal))
                {
                    Neighbours(batchLinks, link.From).Add(link.To);
                    Neighbours(batchLinks, link.To).Add(link.From);
                }
            }

            var siteFacts = facts.Site(site);
            var visited = new HashSet<string>(seeds, StringComparer.Ordinal);
            var frontier = seeds.ToList();
            var round = 0;
            while (frontier.Count > 0)
            {
                if (round == maxRounds || visited.Count >= maxNodesPerSite)
                {
                    truncated = true;
                    break;
                }

                round++;
                foreach (var link in await reader.LinksAsync(site, frontier, cancellationToken))
                {
                    siteFacts.AddLink(link);
                }

                var next = new List<string>();
                foreach (var node in frontier)
                {
                    var stored = siteFacts.LinksOf(node).Select(l => string.Equals(l.From, node, StringComparison.Ordinal) ? l.To : l.From);
                    var stated = batchLinks.TryGetValue(node, out var list) ? list : [];
                    foreach (var other in stored.Concat(stated))
                    {
                        if (visited.Count < maxNodesPerSite && visited.Add(other))
                        {
                            next.Add(other);
                        }
                    }
                }

                frontier = next;
            }

            var chats = visited.Where(Node.IsChat).Select(Node.Value).ToList();
            var orders = visited.Where(Node.IsOrder).Select(Node.Value).ToList();
            if (chats.Count > 0)
            {
                foreach (var e in await reader.ChatEventsAsync(site, chats, cancellationToken))
                {
                    siteFacts.AddChatEvent(e);
                }
            }

            if (orders.Count > 0)
            {
                foreach (var e in await reader.OrderEventsAsync(site, orders, cancellationToken))
                {
                    siteFacts.AddOrderEvent(e);
                }
            }

            nodes += visited.Count;
            rounds = Math.Max(rounds, round);
        }

        return (facts, new LoadStats(nodes, rounds, truncated));
    }

    private static List<string> Neighbours(Dictionary<string, List<string>> adjacency, string node)
    {
        if (!adjacency.TryGetValue(node, out var list))
        {
            list = [];
            adjacency[node] = list;
        }

        return list;
    }
}
