namespace Insights.Contracts;

/// <summary>
/// Strings that repeat from event to event (a site's id, a page's path and title, a country, a browser, a company's
/// name), made once and handed out again: a reader of every live event otherwise makes a new copy of each for every
/// event, which the collector then has to find, and a present visitor would hold its own copy of what thousands share.
/// </summary>
/// <remarks>
/// A fixed table of <see cref="Slots"/> entries, each the UTF-8 bytes and the string made from them, chosen by a hash of
/// the bytes; a value that differs from its slot's replaces it. So it holds at most <see cref="Slots"/> strings of at
/// most <see cref="MaxBytes"/> bytes (about 1 MiB), whatever the input; a hostile stream of distinct values makes every
/// look-up a miss, which costs a copy of the value's bytes beside the string it makes anyway. Entries are immutable and swapped whole, so readers on several threads need no lock.
/// Escaped JSON values are not given here (their bytes are not their text); the caller reads those as usual.
/// </remarks>
internal static class Utf8Strings
{
    public const int Slots = 4096;
    public const int MaxBytes = 256;

    private static readonly Entry?[] Table = new Entry?[Slots];

    /// <summary>The string made before from these bytes, if its slot still holds it.</summary>
    public static bool TryGet(ReadOnlySpan<byte> utf8, out string value)
    {
        var entry = utf8.Length > MaxBytes ? null : Volatile.Read(ref Table[Slot(utf8)]);
        if (entry is not null && utf8.SequenceEqual(entry.Utf8))
        {
            value = entry.Value;
            return true;
        }

        value = "";
        return false;
    }

    /// <summary>Keeps <paramref name="value"/>, the text of <paramref name="utf8"/> as the caller decoded (and validated)
    /// it, in place of whatever its slot held.</summary>
    public static void Add(ReadOnlySpan<byte> utf8, string value)
    {
        if (utf8.Length <= MaxBytes)
        {
            Volatile.Write(ref Table[Slot(utf8)], new Entry(utf8.ToArray(), value));
        }
    }

    private static int Slot(ReadOnlySpan<byte> utf8) => (int)(Hash(utf8) & (Slots - 1));

    // FNV-1a over the bytes: the table only spreads values, a collision costs a miss, never a wrong string.
    private static uint Hash(ReadOnlySpan<byte> utf8)
    {
        var hash = 2166136261u;
        foreach (var b in utf8)
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }

    private sealed record Entry(byte[] Utf8, string Value);
}
