using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Confluent.Kafka;
using Insights.Processors.Consuming;

namespace Insights.Processors;

/// <summary>
/// The processors' work on one batch (or one part of a split batch): each message mapped once, and how far the batch
/// got through the writer's steps. The steps are recorded so a retry after an outage resumes where it stopped
/// instead of repeating work that already succeeded. Kept as the batch's <see cref="ConsumedBatch.State"/>.
/// </summary>
/// <remarks>Owned by the consumer loop's thread, so it needs no locks.</remarks>
internal sealed class EventBatch
{
    /// <summary>The dead-letter stage of messages refused before any write: they cannot be read as events.</summary>
    public const string DeadLetterStage = "processors.decode";

    private readonly List<Entry> entries;
    private string? deduplicationToken;
    private int poisonedRows;
    private Insights.Attribution.AttributionBatch? attribution;

    // Below this many messages one thread maps the batch; above it, slices of this size go to the thread pool.
    private const int ParallelSlice = 4096;

    public EventBatch(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> messages)
    {
        // Mapping is pure, one message at a time, and the largest CPU step before a batch's first write, which waits for
        // it: a backlog's large batches are mapped on every core, each message into its own place, so the order holds.
        var mapped = new Entry[messages.Count];
        if (messages.Count <= ParallelSlice)
        {
            Map(messages, mapped, 0, messages.Count);
        }
        else
        {
            Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, messages.Count, ParallelSlice), slice => Map(messages, mapped, slice.Item1, slice.Item2));
        }

        entries = [.. mapped];
    }

    private static void Map(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> messages, Entry[] mapped, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            var message = messages[i];
            mapped[i] = new Entry(message, EventRowMapper.Map(message.Message.Value, SchemaHeader(message.Message.Headers), EnrichedRowMapper.Columns.Length));
        }
    }

    public readonly record struct Entry(ConsumeResult<byte[]?, byte[]?> Message, MappedEvent Mapped);

    public int Count => entries.Count;

    public IReadOnlyList<Entry> Entries => entries;

    /// <summary>Rows are in ClickHouse; a retry must not insert them again (it would, harmlessly, with another token).</summary>
    public bool Inserted { get; set; }

    /// <summary>Enriched and sessionized, rows built (once: a retry writes the same rows).</summary>
    public PreparedBatch? Prepared { get; set; }

    /// <summary>The sessions rows are in ClickHouse.</summary>
    public bool SessionsInserted { get; set; }

    /// <summary>The batch's session states replaced the sessionizer's memory.</summary>
    public bool SessionsCommitted { get; set; }

    /// <summary>The rows as mapped on arrival, <see cref="EnrichedRowMapper.Columns"/> wide; preparing the batch fills their
    /// enrichment in place (the writer inserts <see cref="PreparedBatch.EventRows"/>, which leaves out replayed events).</summary>
    public List<object[]> Rows()
    {
        var rows = new List<object[]>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.Mapped.Row is { } row)
            {
                rows.Add(row);
            }
        }

        return rows;
    }

    /// <summary>Marks the <paramref name="rowIndex"/>-th row (as in <see cref="Rows"/>) as poison: ClickHouse.Driver could not write it.</summary>
    public void PoisonRow(int rowIndex, string detail)
    {
        for (int i = 0, row = -1; i < entries.Count; i++)
        {
            if (entries[i].Mapped.Row is not null && ++row == rowIndex)
            {
                entries[i] = entries[i] with { Mapped = new MappedEvent(entries[i].Mapped.Event, null, "unwritable", detail) };
                return;
            }
        }
    }

    /// <summary>How many prepared rows were set aside as poison (<see cref="PoisonPreparedRow"/>); what was built from the
    /// rows before then (the live messages, on another thread) is stale when this moved. Written after the entry it
    /// counts, read before the entries, so a reader that sees a count also sees the entries it counts.</summary>
    public int PoisonedRows => Volatile.Read(ref poisonedRows);

    /// <summary>The batch's events for attribution, made once (see <see cref="EventBatchHandler"/>).</summary>
    public Insights.Attribution.AttributionBatch Attribution => attribution ??= new([.. entries.Where(e => !e.Mapped.IsPoison).Select(e => e.Mapped.Event!)]);

    /// <summary>The batch's messages for live presence, built once while its rows are inserted (see <see cref="BatchWriter"/>).</summary>
    public Task<LiveMessages>? Live { get; set; }

    /// <summary>Marks the <paramref name="rowIndex"/>-th prepared row as poison: ClickHouse.Driver could not write it.</summary>
    public void PoisonPreparedRow(int rowIndex, string detail)
    {
        var prepared = Prepared ?? throw new InvalidOperationException("The batch is not prepared.");
        var entry = prepared.RowEntries[rowIndex];
        entries[entry] = entries[entry] with { Mapped = new MappedEvent(entries[entry].Mapped.Event, null, "unwritable", detail) };
        prepared.EventRows.RemoveAt(rowIndex);
        prepared.RowEntries.RemoveAt(rowIndex);
        Volatile.Write(ref poisonedRows, poisonedRows + 1);
    }

    /// <summary>The poison messages (undecodable, invalid, unwritable), for the dead-letter topic.</summary>
    public List<Rejection> Rejections()
    {
        var rejected = new List<Rejection>();
        foreach (var entry in entries)
        {
            if (entry.Mapped.IsPoison)
            {
                rejected.Add(new Rejection(entry.Message, entry.Mapped.Reason ?? "undecodable", entry.Mapped.Detail, DeadLetterStage));
            }
        }

        return rejected;
    }

    /// <summary>
    /// ClickHouse's <c>insert_deduplication_token</c> for this batch: a hash of its topic, partitions and offset
    /// ranges. The same messages always give the same token, so retrying an insert whose outcome was unknown
    /// (a timeout after the server committed) or replaying the same batch after a crash is dropped by the
    /// table's deduplication window instead of written twice. Worked out once per batch: both inserts carry it, and
    /// neither a poisoned row nor a retry changes the messages or their ids.
    /// </summary>
    public string DeduplicationToken() => deduplicationToken ??= HashMessages();

    private string HashMessages()
    {
        var ranges = new SortedDictionary<(string Topic, int Partition), (long First, long Last)>();
        foreach (var entry in entries)
        {
            var key = (entry.Message.Topic, entry.Message.Partition.Value);
            var offset = entry.Message.Offset.Value;
            ranges[key] = ranges.TryGetValue(key, out var r) ? (Math.Min(r.First, offset), Math.Max(r.Last, offset)) : (offset, offset);
        }

        var text = new StringBuilder();
        foreach (var ((topic, partition), (first, last)) in ranges)
        {
            text.Append(CultureInfo.InvariantCulture, $"{topic}/{partition}:{first}-{last};");
        }

        // A batch that lost some messages of a range to a rebalance keeps its first and last offsets but not its
        // contents, so the count is part of the identity too.
        text.Append(CultureInfo.InvariantCulture, $"n={entries.Count};");

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(text.ToString()));

        // Offsets alone repeat when a topic is recreated (a dev stack's in-memory Kafka restarts at offset 0), and
        // ClickHouse would drop the new events as copies of old ones: the event ids make the token the batch's own.
        // Sorted: partitions interleave differently when the same messages are read again. Hashed one by one, each
        // followed by a line feed: the same bytes as one text of them all, without a text of a whole batch's ids
        // (megabytes at 50,000 events, a large-object allocation, twice per batch, until this was worked out once).
        var ids = ArrayPool<string>.Shared.Rent(entries.Count);
        try
        {
            for (var i = 0; i < entries.Count; i++)
            {
                ids[i] = entries[i].Mapped.Event?.EventId ?? "";
            }

            Array.Sort(ids, 0, entries.Count, StringComparer.Ordinal);
            Span<byte> line = stackalloc byte[256];
            for (var i = 0; i < entries.Count; i++)
            {
                var id = ids[i];
                var bytes = Encoding.UTF8.GetMaxByteCount(id.Length) < line.Length ? line : new byte[Encoding.UTF8.GetByteCount(id) + 1];
                var written = Encoding.UTF8.GetBytes(id, bytes);
                bytes[written] = (byte)'\n';
                sha.AppendData(bytes[..(written + 1)]);
            }
        }
        finally
        {
            ArrayPool<string>.Shared.Return(ids, clearArray: true);
        }

        return "insights-processors:" + Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static ReadOnlySpan<byte> SchemaHeader(Headers? headers) =>
        headers is not null && headers.TryGetLastBytes(Insights.Contracts.EventCodec.SchemaHeader, out var value) ? value : default;
}
