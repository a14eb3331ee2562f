namespace Insights.Attribution.Engine;

/// <summary>
/// Union-find over a site's nodes: which nodes are one person. Built per batch from the loaded links, twice: with every
/// link the site allows (the person), and with stated links only (the high-confidence person).
/// </summary>
public sealed class IdentityGraph
{
    private readonly Dictionary<string, int> index = new(StringComparer.Ordinal);
    private readonly List<string> nodes = [];
    private readonly List<int> parent = [];

    public IdentityGraph(IEnumerable<string> nodes, IEnumerable<LinkFact> links, bool includeWeak)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(links);
        foreach (var node in nodes)
        {
            IndexOf(node);
        }

        foreach (var link in links)
        {
            if (includeWeak || link.Strength >= LinkStrength.Strong)
            {
                Union(IndexOf(link.From), IndexOf(link.To));
            }
        }
    }

    public bool Contains(string node) => index.ContainsKey(node);

    /// <summary>A representative of the node's component (the same for every node of it).</summary>
    public int Root(string node) => Find(index[node]);

    /// <summary>The components of the given nodes: root → members.</summary>
    public Dictionary<int, List<string>> ComponentsOf(IEnumerable<string> seeds)
    {
        var roots = new HashSet<int>();
        foreach (var seed in seeds)
        {
            if (index.TryGetValue(seed, out var i))
            {
                roots.Add(Find(i));
            }
        }

        var components = roots.ToDictionary(r => r, _ => new List<string>());
        for (var i = 0; i < nodes.Count; i++)
        {
            if (components.TryGetValue(Find(i), out var members))
            {
                members.Add(nodes[i]);
            }
        }

        return components;
    }

    /// <summary>Every component's person id (see <see cref="PersonOf"/>) by root, in one pass.</summary>
    public Dictionary<int, string> Persons()
    {
        var persons = new Dictionary<int, string>();
        var identified = new HashSet<int>();
        for (var i = 0; i < nodes.Count; i++)
        {
            var root = Find(i);
            var node = nodes[i];
            var isIdentity = Node.IsIdentity(node);
            if (!persons.TryGetValue(root, out var known)
                || (isIdentity && !identified.Contains(root))
                || (isIdentity == identified.Contains(root) && string.CompareOrdinal(node, known) < 0))
            {
                persons[root] = node;
                if (isIdentity)
                {
                    identified.Add(root);
                }
            }
        }

        return persons;
    }

    /// <summary>The person id of a component: its smallest identity node, or its smallest node when it has no identity.</summary>
    public static string PersonOf(IEnumerable<string> members)
    {
        string? person = null, fallback = null;
        foreach (var node in members)
        {
            if (Node.IsIdentity(node))
            {
                if (person is null || string.CompareOrdinal(node, person) < 0)
                {
                    person = node;
                }
            }
            else if (fallback is null || string.CompareOrdinal(node, fallback) < 0)
            {
                fallback = node;
            }
        }

        return person ?? fallback ?? throw new ArgumentException("A component has at least one node.", nameof(members));
    }

    private int IndexOf(string node)
    {
        if (!index.TryGetValue(node, out var i))
        {
            i = nodes.Count;
            index[node] = i;
            nodes.Add(node);
            parent.Add(i);
        }

        return i;
    }

    private int Find(int i)
    {
        var root = i;
        while (parent[root] != root)
        {
            root = parent[root];
        }

        while (parent[i] != root)
        {
            (parent[i], i) = (root, parent[i]);
        }

        return root;
    }

    private void Union(int a, int b)
    {
        var ra = Find(a);
        var rb = Find(b);
        if (ra != rb)
        {
            // Lower index becomes the root: deterministic, and good enough with path compression.
            if (ra < rb)
            {
                parent[rb] = ra;
            }
            else
            {
                parent[ra] = rb;
            }
        }
    }
}
