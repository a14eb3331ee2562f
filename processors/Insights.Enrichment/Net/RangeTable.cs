using System.Numerics;

namespace Insights.Enrichment.Net;

/// <summary>
/// Disjoint, sorted address ranges → value, found by binary search over a flat array of starts: the ASN data
/// (412k IPv4 + 103k IPv6 ranges) costs 20 comparisons per lookup and three arrays of memory, no per-range object.
/// </summary>
internal sealed class RangeTable<TAddress, TValue>
    where TAddress : unmanaged, IBinaryInteger<TAddress>
    where TValue : class
{
    private readonly TAddress[] starts;
    private readonly TAddress[] ends;
    private readonly TValue[] values;

    private RangeTable(TAddress[] starts, TAddress[] ends, TValue[] values)
    {
        this.starts = starts;
        this.ends = ends;
        this.values = values;
    }

    public static RangeTable<TAddress, TValue> Empty { get; } = new([], [], []);

    public int Count => starts.Length;

    public TValue? Find(TAddress address)
    {
        // The last range starting at or before the address; it holds the address unless it ends before it.
        var index = Array.BinarySearch(starts, address);
        if (index < 0)
        {
            index = ~index - 1;
        }

        return index >= 0 && address <= ends[index] ? values[index] : null;
    }

    /// <summary>Collects ranges in any order; <see cref="Build"/> sorts them and refuses overlaps.</summary>
    public sealed class Builder
    {
        private readonly List<(TAddress Start, TAddress End, TValue Value)> ranges = [];

        public int Count => ranges.Count;

        public void Add(TAddress start, TAddress end, TValue value) => ranges.Add((start, end, value));

        /// <summary>Sorted by start; a range overlapping the one before it is dropped and counted in <paramref name="overlapping"/>.</summary>
        public RangeTable<TAddress, TValue> Build(out int overlapping)
        {
            ranges.Sort(static (a, b) => a.Start.CompareTo(b.Start));
            var starts = new List<TAddress>(ranges.Count);
            var ends = new List<TAddress>(ranges.Count);
            var values = new List<TValue>(ranges.Count);
            overlapping = 0;
            foreach (var (start, end, value) in ranges)
            {
                if (ends.Count > 0 && start <= ends[^1])
                {
                    overlapping++;
                    continue;
                }

                starts.Add(start);
                ends.Add(end);
                values.Add(value);
            }

            return new RangeTable<TAddress, TValue>([.. starts], [.. ends], [.. values]);
        }
    }
}

/// <summary>
/// CIDR prefixes → value with longest-prefix-match semantics, flattened at build time into disjoint ranges so a
/// lookup is one binary search. Prefixes may nest (10.0.0.0/8 "HQ" and 10.1.0.0/16 "Lab"); the most specific wins.
/// </summary>
internal static class PrefixFlattener
{
    /// <summary>
    /// Flattens a laminar family (CIDR blocks either nest or are disjoint) with one sweep over the blocks sorted by
    /// start then size: a stack holds the blocks still open; each block's uncovered stretches become ranges.
    /// Of two identical blocks the first one given wins.
    /// </summary>
    public static RangeTable<TAddress, TValue> Flatten<TAddress, TValue>(
        IReadOnlyList<(TAddress Start, TAddress End, TValue Value)> blocks)
        where TAddress : unmanaged, IBinaryInteger<TAddress>, IMinMaxValue<TAddress>
        where TValue : class
    {
        var ordered = blocks.Select((b, order) => (b.Start, b.End, b.Value, Order: order))
            .OrderBy(b => b.Start).ThenByDescending(b => b.End).ThenBy(b => b.Order).ToList();
        var builder = new RangeTable<TAddress, TValue>.Builder();
        var open = new Stack<(TAddress Start, TAddress End, TValue Value)>();
        var cursor = TAddress.Zero;
        var exhausted = false; // the cursor passed the top of the address space

        void Close(TAddress upTo)
        {
            // Close every open block that ends before upTo, emitting what is left of it after the cursor.
            while (open.Count > 0 && open.Peek().End < upTo)
            {
                var block = open.Pop();
                if (!exhausted && cursor <= block.End)
                {
                    builder.Add(cursor, block.End, block.Value);
                }

                if (block.End == TAddress.MaxValue)
                {
                    exhausted = true;
                }
                else if (!exhausted && cursor <= block.End)
                {
                    cursor = block.End + TAddress.One;
                }
            }
        }

        foreach (var (start, end, value, _) in ordered)
        {
            if (open.Count > 0 && open.Peek().Start == start && open.Peek().End == end)
            {
                continue; // a duplicate block: the first one wins
            }

            Close(start);
            if (open.Count > 0 && cursor < start)
            {
                builder.Add(cursor, start - TAddress.One, open.Peek().Value);
            }

            cursor = start;
            exhausted = false;
            open.Push((start, end, value));
        }

        while (open.Count > 0)
        {
            Close(TAddress.MaxValue);
            if (open.Count > 0)
            {
                // Blocks ending at the very top of the address space: Close(MaxValue) cannot pop them by comparison.
                var block = open.Pop();
                if (!exhausted && cursor <= block.End)
                {
                    builder.Add(cursor, block.End, block.Value);
                }

                exhausted = true;
            }
        }

        return builder.Build(out _);
    }
}
