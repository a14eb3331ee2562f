using System.Numerics;

namespace Insights.Enrichment.Caching;

/// <summary>An immutable cached value that carries its own key, so a slot holds one reference and no wrapper.</summary>
internal interface ICacheEntry
{
    string Key { get; }

    int Hash { get; }
}

/// <summary>
/// A fixed-size, 4-way set-associative cache keyed by string. Lookups are lock-free and allocation-free: a slot is
/// one reference to an immutable entry, so a reader sees either the old or the new entry, never a torn one.
/// </summary>
/// <remarks>
/// Chosen over a size-bounded <c>ConcurrentDictionary</c> (see the cache benchmark): no node allocation per add, no
/// eviction sweep, and a full cache costs nothing more than an empty one. The price is an approximate replacement
/// policy (a pseudo-random way of the set), which for IPs and user agents — a hot head and a long tail — loses little.
/// Hashes are the runtime's randomized string hashes, so crafted keys cannot aim at one set.
/// </remarks>
internal sealed class BoundedCache<TEntry>
    where TEntry : class, ICacheEntry
{
    private const int Ways = 4;

    private readonly TEntry?[] slots;
    private readonly int setMask;
    private uint victim;

    /// <param name="capacity">Entries held at most; rounded up to a power of two (at least 4).</param>
    public BoundedCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var sets = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, (capacity + Ways - 1) / Ways));
        slots = new TEntry?[sets * Ways];
        setMask = sets - 1;
    }

    public int Capacity => slots.Length;

    public static int HashOf(string key) => key.GetHashCode(StringComparison.Ordinal);

    public bool TryGet(string key, int hash, out TEntry entry)
    {
        var first = (hash & setMask) * Ways;
        for (var i = first; i < first + Ways; i++)
        {
            var candidate = Volatile.Read(ref slots[i]);
            if (candidate is not null && candidate.Hash == hash && string.Equals(candidate.Key, key, StringComparison.Ordinal))
            {
                entry = candidate;
                return true;
            }
        }

        entry = null!;
        return false;
    }

    /// <summary>Stores the entry, replacing the one with the same key, else a free way, else a pseudo-random way.</summary>
    public void Set(TEntry entry)
    {
        var first = (entry.Hash & setMask) * Ways;
        var free = -1;
        for (var i = first; i < first + Ways; i++)
        {
            var current = Volatile.Read(ref slots[i]);
            if (current is null)
            {
                free = free < 0 ? i : free;
            }
            else if (current.Hash == entry.Hash && string.Equals(current.Key, entry.Key, StringComparison.Ordinal))
            {
                Volatile.Write(ref slots[i], entry);
                return;
            }
        }

        // A racy counter is fine: it only spreads evictions over the ways.
        var slot = free >= 0 ? free : first + (int)(unchecked(++victim) % Ways);
        Volatile.Write(ref slots[slot], entry);
    }

    public void Clear() => Array.Clear(slots);
}
