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

    // The ids of the visitor's last event deliveries and the sessions they went to, oldest at `next` once full. It
    // grows (4, 8, 16, 32) with the visitor's events: most visitors send a few, and every batch that touches a visitor
    // copies its ring (Fold works on copies), so a visitor with three events copies three entries, not 32.
    private (string EventId, string SessionId)[] recent = [];
    private int count;
    private int next;

    // The ring's strings, counted as each is added and dropped, so that re-measuring a state at commit does not walk
    // the ring.
    private long recentBytes;

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
        recent = count == 0 ? [] : ((string, string)[])recent.Clone(),
        count = count,
        next = next,
        recentBytes = recentBytes,
    };

    /// <summary>
    /// Heap bytes of this state and everything only it holds: the key, the recent event ids and the sessions with their
    /// strings. Strings shared with other objects (a session's site, a browser name) are counted anyway: an over-estimate
    /// keeps memory under the cap, an under-estimate would not.
    /// </summary>
    public long EstimateBytes(VisitorKey key)
    {
        var bytes = FixedBytes + MemoryBudget.StringBytes(key.Site) + MemoryBudget.StringBytes(key.Visitor) + 8L * Sessions.Capacity
            + 16L * recent.Length + recentBytes;
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

    /// <summary>False when the event id was folded recently (a duplicate delivery).</summary>
    public bool Remember(string eventId) => IndexOf(eventId) < 0;

    public string? SessionOf(string eventId) => IndexOf(eventId) is var at and >= 0 ? recent[at].SessionId : null;

    public void Tag(string eventId, string sessionId)
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
            recentBytes -= MemoryBudget.StringBytes(recent[slot].EventId) + MemoryBudget.StringBytes(recent[slot].SessionId);
        }

        recent[slot] = (eventId, sessionId);
        recentBytes += MemoryBudget.StringBytes(eventId) + MemoryBudget.StringBytes(sessionId);
        next = (slot + 1) % Recent;
    }

    private int IndexOf(string eventId)
    {
        for (var i = 0; i < count; i++)
        {
            if (string.Equals(recent[i].EventId, eventId, StringComparison.Ordinal))
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
