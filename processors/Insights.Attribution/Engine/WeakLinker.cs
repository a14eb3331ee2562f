using System.Diagnostics.Metrics;
using Insights.ServiceDefaults;

namespace Insights.Attribution.Engine;

/// <summary>
/// The fallback for chats and orders that carry no visitor id the tracker knows: which anonymous visitor was seen with
/// the same IP address and user agent within minutes of them. Only an unambiguous answer links: when two or more
/// visitors share the pair (an office behind one NAT, one browser build everywhere), nothing is guessed.
/// </summary>
/// <remarks>
/// In memory and per consumer: the pairs are minutes old when they matter, so losing them on a restart loses at most
/// the links of those minutes, and the links already made are stored facts. Bounded in bytes by
/// <see cref="EngineSettings.WeakLinkMaxBytes"/> (a user agent is whatever a stranger sends): pairs older than the
/// window go first, then the ones seen longest ago.
/// </remarks>
public sealed class WeakLinker(EngineSettings settings, IMeterFactory? meterFactory = null)
{
    // More distinct visitors than this on one pair and the pair is a crowd: it never links again until it ages out.
    private const int MaxVisitorsPerPair = 3;

    // The dictionary entry, the sightings object and its list of MaxVisitorsPerPair (node, first, last) slots.
    private const int PairBytes = 48 + 48 + 32 + 24 + MaxVisitorsPerPair * 24;

    private readonly Dictionary<(string Site, string Ip, string UserAgent), Sightings> pairs = [];
    private readonly MemoryBudget memory = new(settings.WeakLinkMaxBytes, meterFactory, AttributionEngine.AttributionMeter, "insights.attribution.weak_pairs");
    private DateTime newest = DateTime.MinValue;

    public int Count => pairs.Count;

    /// <summary>Estimated bytes of the pairs remembered; at most <see cref="EngineSettings.WeakLinkMaxBytes"/> after each sighting.</summary>
    public long BytesHeld => memory.HeldBytes;

    /// <summary>Pairs forgotten since start.</summary>
    public long Evictions => memory.Evictions;

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
            sightings = new Sightings(PairBytes + MemoryBudget.StringBytes(site) + MemoryBudget.StringBytes(ip) + MemoryBudget.StringBytes(userAgent));
            pairs[key] = sightings;
            memory.Add(sightings.Bytes);
        }

        memory.Add(sightings.Add(anonymousNode, at));
        if (memory.IsOver)
        {
            Evict();
        }
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

    /// <summary>Drops pairs not seen within the window of the newest event; if that frees too little, the least
    /// recently seen until a tenth under the cap.</summary>
    private void Evict()
    {
        var horizon = newest - settings.WeakLinkWindow;
        foreach (var (key, sightings) in pairs)
        {
            if (sightings.Last < horizon)
            {
                pairs.Remove(key);
                memory.Evicted(sightings.Bytes, EvictionReasons.Idle);
            }
        }

        if (memory.HeldBytes > memory.TargetBytes)
        {
            foreach (var (key, sightings) in pairs.OrderBy(p => p.Value.Last).ToList())
            {
                if (memory.HeldBytes <= memory.TargetBytes)
                {
                    break;
                }

                pairs.Remove(key);
                memory.Evicted(sightings.Bytes, EvictionReasons.Memory);
            }
        }
    }

    private sealed class Sightings(long bytes)
    {
        private readonly List<(string Node, DateTime First, DateTime Last)> entries = new(MaxVisitorsPerPair);

        /// <summary>What the pair costs in memory: its key, this object and the nodes it holds.</summary>
        public long Bytes { get; private set; } = bytes;

        public bool Crowded { get; private set; }

        public DateTime Last { get; private set; } = DateTime.MinValue;

        public IReadOnlyList<(string Node, DateTime First, DateTime Last)> Entries => entries;

        /// <summary>Records a sighting; returns the bytes it added.</summary>
        public long Add(string node, DateTime at)
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
                    return 0;
                }
            }

            if (entries.Count >= MaxVisitorsPerPair)
            {
                Crowded = true;
                return 0;
            }

            entries.Add((node, at, at));
            var added = MemoryBudget.StringBytes(node);
            Bytes += added;
            return added;
        }
    }
}
