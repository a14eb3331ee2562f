namespace Insights.Attribution.Engine;

/// <summary>
/// The fallback for chats and orders that carry no visitor id the tracker knows: which anonymous visitor was seen with
/// the same IP address and user agent within minutes of them. Only an unambiguous answer links: when two or more
/// visitors share the pair (an office behind one NAT, one browser build everywhere), nothing is guessed.
/// </summary>
/// <remarks>
/// In memory and per consumer: the pairs are minutes old when they matter, so losing them on a restart loses at most
/// the links of those minutes, and the links already made are stored facts. Bounded by
/// <see cref="EngineSettings.WeakLinkCapacity"/>; the pairs seen longest ago are dropped first.
/// </remarks>
public sealed class WeakLinker(EngineSettings settings)
{
    // More distinct visitors than this on one pair and the pair is a crowd: it never links again until it ages out.
    private const int MaxVisitorsPerPair = 3;

    private readonly Dictionary<(string Site, string Ip, string UserAgent), Sightings> pairs = [];
    private DateTime newest = DateTime.MinValue;

    public int Count => pairs.Count;

    /// <summary>Remembers that <paramref name="anonymousNode"/> used the pair at <paramref name="at"/>.</summary>
    public void See(string site, string ip, string userAgent, string anonymousNode, DateTime at)
    {
        if (at > newest)
        {
            newest = at;
        }

        var key = (site, ip, userAgent);
        if (!pairs.TryGetValue(key, out var sightings))
        {
            if (pairs.Count >= settings.WeakLinkCapacity)
            {
                Evict();
            }

            sightings = new Sightings();
            pairs[key] = sightings;
        }

        sightings.Add(anonymousNode, at);
    }

    /// <summary>The one visitor other than <paramref name="ownNode"/> seen with the pair within the window around <paramref name="at"/>, or null.</summary>
    public string? Match(string site, string ip, string userAgent, string? ownNode, DateTime at)
    {
        if (!pairs.TryGetValue((site, ip, userAgent), out var sightings) || sightings.Crowded)
        {
            return null;
        }

        string? match = null;
        foreach (var (node, first, last) in sightings.Entries)
        {
            if (string.Equals(node, ownNode, StringComparison.Ordinal)
                || last < at - settings.WeakLinkWindow || first > at + settings.WeakLinkWindow)
            {
                continue;
            }

            if (match is not null)
            {
                return null;
            }

            match = node;
        }

        return match;
    }

    /// <summary>Drops pairs not seen within the window of the newest event; if that frees too little, the older half.</summary>
    private void Evict()
    {
        var horizon = newest - settings.WeakLinkWindow;
        foreach (var (key, sightings) in pairs)
        {
            if (sightings.Last < horizon)
            {
                pairs.Remove(key);
            }
        }

        if (pairs.Count >= settings.WeakLinkCapacity * 3 / 4)
        {
            var median = pairs.Values.Select(s => s.Last).Order().ElementAt(pairs.Count / 2);
            foreach (var (key, sightings) in pairs)
            {
                if (sightings.Last <= median)
                {
                    pairs.Remove(key);
                }
            }
        }
    }

    private sealed class Sightings
    {
        private readonly List<(string Node, DateTime First, DateTime Last)> entries = new(2);

        public bool Crowded { get; private set; }

        public DateTime Last { get; private set; } = DateTime.MinValue;

        public IReadOnlyList<(string Node, DateTime First, DateTime Last)> Entries => entries;

        public void Add(string node, DateTime at)
        {
            if (at > Last)
            {
                Last = at;
            }

            for (var i = 0; i < entries.Count; i++)
            {
                if (string.Equals(entries[i].Node, node, StringComparison.Ordinal))
                {
                    var (_, first, last) = entries[i];
                    entries[i] = (node, at < first ? at : first, at > last ? at : last);
                    return;
                }
            }

            if (entries.Count >= MaxVisitorsPerPair)
            {
                Crowded = true;
                return;
            }

            entries.Add((node, at, at));
        }
    }
}
