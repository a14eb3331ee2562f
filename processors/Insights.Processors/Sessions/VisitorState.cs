using Insights.ServiceDefaults;

namespace Insights.Processors.Sessions;

/// <summary>What memory knows of one Kafka partition: its visitors, and since when it saw everything.</summary>
internal sealed class PartitionMemory
{
    public Dictionary<VisitorKey, VisitorState> Visitors { get; } = [];

    /// <summary>The earliest received time of the events consumed since the partition was assigned.</summary>
    public DateTime? FirstReceivedAt { get; set; }

    /// <summary>The latest end of a session dropped from memory.</summary>
    public DateTime EvictedUntil { get; private set; } = DateTime.MinValue;

    /// <summary>
    /// After this time, every session of this partition's visitors is in memory: the events were consumed here (their
    /// timestamps may run ahead of their received time by the clock skew ingest allows), and none was evicted since.
    /// </summary>
    public DateTime KnowsEverythingAfter(TimeSpan skew)
    {
        var owned = FirstReceivedAt is { } first && first < DateTime.MaxValue - skew ? first + skew : DateTime.MaxValue;
        return owned > EvictedUntil ? owned : EvictedUntil;
    }

    public void Evict(VisitorKey visitor, VisitorState state)
    {
        Visitors.Remove(visitor);
        foreach (var session in state.Sessions)
        {
            if (session.EndedAt > EvictedUntil)
            {
                EvictedUntil = session.EndedAt;
            }
        }
    }
}

/// <summary>
/// A visitor's sessions as known: the latest one (and, within a batch, any older one a late event touched), the
/// highest Kafka offset folded for them, and since when the list is complete.
/// </summary>
internal sealed class VisitorState
{
    private const int Recent = 32;

    // The dictionary entry, this object, the ring's array header and the sessions list, without their strings.
    private const int FixedBytes = 48 + 80 + 24 + 40;

    // The visitor's last event deliveries, as a 64-bit hash of each event id and the time its first delivery was stored
    // with; oldest at `next` once full. The time is what a retry is written with (a client that sends an event again
    // without a timestamp gets ingest's time of the second attempt, and `events` only collapses two rows whose sorting
    // key, which holds the hour, is equal), and it finds the session the event went to (SessionAt). An id is kept as its
    // hash: the ids are a visitor's longest strings (a client's message id), and the ring would otherwise hold 32 of them
    // for as long as the visitor is in memory. If two of one visitor's last 32 ids shared a hash (about 2^-59 per event),
    // the second would be taken for a retry of the first and not stored. A client that crafts two such ids does that to
    // its own visitor only. The entries hold no references, so the collector never scans the ring.
    // The ring grows (4, 8, 16, 32) with the visitor's events: most visitors send a few, and every batch that touches a
    // visitor copies its ring (Fold works on copies), so a visitor with three events copies three entries, not 32.
    private (ulong EventHash, DateTime At)[] recent = [];
    private int count;
    private int next;

    /// <summary>What this state was estimated at when it was put in memory (see <see cref="EstimateBytes"/>).</summary>
    public long Bytes { get; set; }

    public List<Session> Sessions { get; private set; } = [];

    /// <summary>Every session of the visitor that ends at or after this is in <see cref="Sessions"/>.</summary>
    public DateTime CoveredFrom { get; set; }

    public long MaxOffset { get; set; } = -1;

    public DateTime MaxReceivedAt { get; set; }

    public long LastTouched { get; set; }

    public VisitorState Clone() => new()
    {
        Sessions = [.. Sessions],
        CoveredFrom = CoveredFrom,
        MaxOffset = MaxOffset,
        MaxReceivedAt = MaxReceivedAt,
        LastTouched = LastTouched,
        recent = count == 0 ? [] : ((ulong, DateTime)[])recent.Clone(),
        count = count,
        next = next,
    };

    /// <summary>
    /// Heap bytes of this state and everything only it holds: the key, the record of recent events and the sessions with
    /// their strings. Strings shared with other objects (a session's site, a browser name) are counted anyway: an
    /// over-estimate keeps memory under the cap, an under-estimate would not.
    /// </summary>
    public long EstimateBytes(VisitorKey key)
    {
        var bytes = FixedBytes + MemoryBudget.StringBytes(key.Site) + MemoryBudget.StringBytes(key.Visitor) + 8L * Sessions.Capacity
            + 16L * recent.Length;

        foreach (var session in Sessions)
        {
            bytes += session.EstimateBytes();
        }

        return bytes;
    }

    /// <summary>The session whose span, widened by the gap on both sides, holds <paramref name="at"/>; the nearest if two do.</summary>
    public Session? SessionAt(DateTime at, TimeSpan gap)
    {
        Session? best = null;
        var bestDistance = TimeSpan.MaxValue;
        foreach (var session in Sessions)
        {
            if (at < session.StartedAt - gap || at > session.EndedAt + gap)
            {
                continue;
            }

            var distance = at < session.StartedAt ? session.StartedAt - at : at > session.EndedAt ? at - session.EndedAt : TimeSpan.Zero;
            if (distance < bestDistance)
            {
                (best, bestDistance) = (session, distance);
            }
        }

        return best;
    }

    public void Add(Session session)
    {
        var at = Sessions.FindIndex(s => s.StartedAt > session.StartedAt);
        Sessions.Insert(at < 0 ? Sessions.Count : at, session);
    }

    public void Replace(Session old, Session copy) => Sessions[Sessions.IndexOf(old)] = copy;

    /// <summary>
    /// The time the event id's first delivery was stored with, when it was folded recently (this is a duplicate
    /// delivery); null for an event not seen.
    /// </summary>
    public DateTime? Recall(string eventId) => IndexOf(eventId) is var i and >= 0 ? recent[i].At : null;

    /// <summary>Records a folded event: its id and the time its row is stored with.</summary>
    public void Tag(string eventId, DateTime at)
    {
        if (count == recent.Length && count < Recent)
        {
            Array.Resize(ref recent, Math.Min(Recent, Math.Max(4, 2 * count)));
        }

        int slot;
        if (count < recent.Length)
        {
            slot = count++;
        }
        else
        {
            // Full: the oldest entry gives way.
            slot = next;
        }

        recent[slot] = (Hash(eventId), at);
        next = (slot + 1) % Recent;
    }

    // FNV-1a over the id's UTF-16 units: the same in every process, one multiply per character, no allocation.
    private static ulong Hash(string eventId)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in eventId)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    private int IndexOf(string eventId)
    {
        var hash = Hash(eventId);
        for (var i = 0; i < count; i++)
        {
            if (recent[i].EventHash == hash)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Keeps only the latest session (the one the next event can join); memory then covers from just after the others.</summary>
    public void KeepLatest()
    {
        if (Sessions.Count <= 1)
        {
            return;
        }

        var latest = Sessions.MaxBy(s => s.EndedAt)!;
        foreach (var session in Sessions)
        {
            if (!ReferenceEquals(session, latest) && session.EndedAt >= CoveredFrom)
            {
                CoveredFrom = session.EndedAt.AddTicks(1);
            }
        }

        Sessions = [latest];
    }
}
