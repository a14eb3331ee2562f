namespace Insights.Storage;

/// <summary>
/// Cuts the ids of a look-up (<c>id IN {ids:Array(String)}</c>) into chunks whose parameter stays under a byte budget
/// once ClickHouse.Driver has encoded it. The driver sends every <c>param_*</c> value in the URL: the array is written
/// as <c>['a','b']</c> (quotes and backslashes escaped), TSV-escaped, then percent-encoded, so one id may cost up to
/// twelve times its length. Counting ids is therefore no bound at all: 1,000 ids of 250 non-ASCII characters are
/// ~2.3 MB of URL, which the server refuses (HTTP 414) however often the batch is retried.
/// </summary>
/// <remarks>
/// The cost of a character is an upper bound of what the driver sends for it (see <see cref="EncodedBytes"/>); the
/// tests compare it with the request line the driver actually writes. A single id over the budget still gets a chunk
/// of its own: ids are bounded upstream (ingest's identifier limit), so such an id is at most a few KB.
/// </remarks>
public static class LookupChunks
{
    /// <summary>Under ClickHouse's <c>http_max_field_value_size</c> (128 KiB per URL parameter; counted here on the
    /// encoded value, the larger of the two readings) with room for the rest of the URL, and far under
    /// <c>http_max_uri_size</c> (1 MiB) and the dev stack's request-line limit (1 MiB).</summary>
    public const int MaxBudgetBytes = 120 * 1024;

    public const int MinBudgetBytes = 4 * 1024;

    /// <summary>
    /// Near the ceiling: a batch of new visitors with long non-ASCII ids needs fewer queries (the hostile-input storm
    /// caught up in 13.5 s at 120 KiB against 20.3 s at 64 KiB, same machine, one run each), with 8 KiB to spare for an
    /// estimate that is already an upper bound.
    /// </summary>
    public const int DefaultBudgetBytes = 112 * 1024;

    // '[' and ']' around the array, each percent-encoded.
    private const int ArrayOverhead = 6;

    // The quotes around an id and the comma after it, each percent-encoded.
    private const int PerIdOverhead = 9;

    /// <summary>The most bytes <paramref name="id"/> can add to the URL as one element of an Array(String) parameter.</summary>
    public static int EncodedBytes(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var bytes = PerIdOverhead;
        foreach (var c in id)
        {
            bytes += c switch
            {
                // Unreserved characters travel as they are.
                >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '_' or '.' or '~' => 1,
                // A backslash is doubled by the array literal and again by TSV escaping: four %5C.
                '\\' => 12,
                // A quote becomes \' in the literal, then \\' in TSV: three %XX. Controls are charged the same (TSV
                // writes most as \t-like pairs; the rest are refused as ids upstream).
                '\'' or < ' ' or (char)0x7F => 9,
                // Other printable ASCII: one %XX.
                < (char)0x80 => 3,
                // Two or three UTF-8 bytes, each %XX. A surrogate half is counted as three bytes: a lone one is sent as
                // U+FFFD (EF BF BD), and a pair (four bytes) is then over-counted, never under.
                < (char)0x800 => 6,
                _ => 9,
            };
        }

        return bytes;
    }

    /// <summary>
    /// The ids in order, cut so that each chunk's encoded parameter stays within <paramref name="budgetBytes"/>.
    /// Duplicates are kept as given (the caller decides whether they are distinct).
    /// </summary>
    public static IEnumerable<string[]> Chunk(IEnumerable<string> ids, int budgetBytes)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfLessThan(budgetBytes, MinBudgetBytes);
        return Cut(ids, budgetBytes);
    }

    private static IEnumerable<string[]> Cut(IEnumerable<string> ids, int budgetBytes)
    {
        var chunk = new List<string>();
        var used = ArrayOverhead;
        foreach (var id in ids)
        {
            var cost = EncodedBytes(id);
            if (chunk.Count > 0 && used + cost > budgetBytes)
            {
                yield return [.. chunk];
                chunk.Clear();
                used = ArrayOverhead;
            }

            chunk.Add(id);
            used += cost;
        }

        if (chunk.Count > 0)
        {
            yield return [.. chunk];
        }
    }
}
