using System.Diagnostics;
using System.Globalization;
using System.Text;
using ClickHouse.Driver;
using ClickHouse.Driver.Copy;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.Processors.Sessions;
using Insights.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Processors;

/// <summary>
/// The steps a batch goes through before its offsets may be stored, in order: prepare it (enrich, sessionize, build
/// rows: <see cref="BatchPreparer"/>), insert the events into ClickHouse, then the sessions they changed, republish
/// the stored visitor events for live presence, and hand the batch's session states to the sessionizer's memory.
/// Each step that succeeded is recorded on the batch, so a retry resumes at the step that failed. The poison messages
/// go to the dead-letter topic through the consumer loop, with every other group's.
/// </summary>
/// <remarks>
/// Events go in before sessions: a session row says how far its visitor's events were folded (its Kafka offset), and
/// a restarted processor skips events at or below it as already stored, so that promise must be true first.
/// </remarks>
public sealed class BatchWriter(
    ClickHouseClient clickHouse,
    IProducer<byte[]?, byte[]?> producer,
    BatchPreparer preparer,
    Sessionizer sessionizer,
    IOptions<ProcessorOptions> processorOptions,
    IOptions<ClickHouseStorageOptions> storageOptions,
    ProcessorMetrics metrics,
    ILogger<BatchWriter> logger)
{
    private const string EventsTable = "events";

    private readonly ProcessorOptions options = processorOptions.Value;
    private readonly string database = storageOptions.Value.Database;
    private readonly Action<DeliveryReport<byte[]?, byte[]?>> onEnrichedDelivered = report =>
    {
        if (report.Error.IsError)
        {
            metrics.EnrichedFailed();
        }
    };

    /// <summary>Runs the remaining steps; throws when one fails (the caller backs off and calls again).</summary>
    internal async Task WriteAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        batch.Prepared ??= await preparer.PrepareAsync(batch, cancellationToken);

        // The live messages are built while the rows go in (this thread would only wait for ClickHouse meanwhile) and
        // sent after them: presence hears only of stored events.
        if (options.PublishEnriched)
        {
            batch.Live ??= Task.Run(() => BuildLive(batch), CancellationToken.None);
        }

        var timer = metrics.Consumer.Time("insert_events");
        if (!batch.Inserted)
        {
            var inserted = await InsertAsync(batch, cancellationToken);
            batch.Inserted = true;
            if (options.Fault.ExitAfterInsert && inserted > 0)
            {
                Environment.FailFast("Processors:Fault:ExitAfterInsert: the batch is in ClickHouse and its offsets are not stored.");
            }
        }

        timer.Next("insert_sessions");
        if (!batch.SessionsInserted)
        {
            var sessions = await InsertSessionsAsync(batch, cancellationToken);
            batch.SessionsInserted = true;
            if (options.Fault.ExitAfterSessionsInsert && sessions > 0)
            {
                Environment.FailFast("Processors:Fault:ExitAfterSessionsInsert: the batch's events and sessions are in ClickHouse and its offsets are not stored.");
            }
        }

        timer.Next("publish");
        if (batch.Live is { } building)
        {
            var live = await building;
            if (live.PoisonedRows != batch.PoisonedRows)
            {
                // A row the driver could not encode was set aside during the insert: it is not stored, so it is not news.
                live = BuildLive(batch);
            }

            foreach (var (key, value) in live.Messages)
            {
                Produce(key, value);
            }
        }

        timer.Stop();

        if (!batch.SessionsCommitted)
        {
            sessionizer.Commit(batch.Prepared.Sessions);
            batch.SessionsCommitted = true;
            metrics.VisitorsInMemory(sessionizer.VisitorsInMemory);
        }
    }

    /// <summary>Inserts the batch's rows in one request; returns how many.</summary>
    private async Task<int> InsertAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        while (true)
        {
            var rows = batch.Prepared!.EventRows;
            if (rows.Count == 0)
            {
                return 0;
            }

            var insert = DeduplicatedInsert(EnrichedRowMapper.ColumnTypes, rows.Count, batch);

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.InsertTimeoutSeconds));
            var started = Stopwatch.GetTimestamp();
            try
            {
                await clickHouse.InsertBinaryAsync(EventsTable, EnrichedRowMapper.Columns, rows, insert, timeout.Token);
            }
            catch (ClickHouseBulkCopySerializationException error)
            {
                // A value the driver cannot encode fails the whole request; set that one event aside as poison
                // and write the rest, rather than retrying a batch that can never succeed.
                batch.PoisonPreparedRow(error.RowIndex, error.InnerException?.Message ?? error.Message);
                LogMessages.RowUnwritable(logger, error.RowIndex, error);
                continue;
            }

            metrics.InsertDuration(Stopwatch.GetElapsedTime(started));
            metrics.Inserted(rows.Count);
            return rows.Count;
        }
    }

    /// <summary>One request per table and batch, so the batch's deduplication token covers exactly its rows: a replayed
    /// batch that ClickHouse already stored is dropped as a whole.</summary>
    private InsertOptions DeduplicatedInsert(IReadOnlyDictionary<string, string> columnTypes, int rows, EventBatch batch) => new()
    {
        Database = database,
        ColumnTypes = columnTypes,
        BatchSize = rows,
        Compressor = clickHouse.InsertCompressor(),
        CustomSettings = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["insert_deduplicate"] = 1,
            ["insert_deduplication_token"] = batch.DeduplicationToken(),
            // Old or far-future events of one batch may span many monthly partitions; refusing the whole insert
            // for that would block the partition forever.
            ["throw_on_max_partitions_per_insert_block"] = 0,
        },
    };

    /// <summary>Inserts the sessions the batch changed, whole, in one request with the batch's token; returns how many.</summary>
    private async Task<int> InsertSessionsAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        var rows = batch.Prepared!.SessionRows;
        if (rows.Count == 0)
        {
            return 0;
        }

        var insert = DeduplicatedInsert(Session.ColumnTypes, rows.Count, batch);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.InsertTimeoutSeconds));
        await clickHouse.InsertBinaryAsync(SessionStore.Table, Session.Columns, rows, insert, timeout.Token);
        metrics.SessionsInserted(rows.Count);
        return rows.Count;
    }

    /// <summary>
    /// The batch's messages for live presence: each stored visitor event as the site's privacy mode lets it out
    /// (<see cref="EnrichedMessage"/>), bundled with the batch's other events from the same partition of
    /// <c>insights.events</c> (<see cref="LiveEventBundle"/>). Presence only needs the latest events, so sending them is
    /// at-most-once: not awaited (the delivery report counts failures) and never a reason to hold back offsets.
    /// </summary>
    /// <remarks>
    /// A visitor's events all come from one partition (the key is <c>site:visitor</c>), so a bundle keyed by that
    /// partition keeps them in order: every batch's bundles of partition p go to the same partition of the enriched
    /// topic, in the order they were stored. Reads the prepared batch only; runs beside the inserts, which may set a
    /// row aside meanwhile (<see cref="LiveMessages.PoisonedRows"/> tells).
    /// </remarks>
    private LiveMessages BuildLive(EventBatch batch)
    {
        var poisoned = batch.PoisonedRows;
        var messages = new List<(byte[] Key, byte[] Value)>();
        var bundle = new LiveEventBundle(options.EnrichedMessageMaxBytes);
        foreach (var partition in batch.Entries.Select((entry, index) => (entry.Message.Partition.Value, index)).GroupBy(p => p.Value, p => p.index))
        {
            var key = Encoding.ASCII.GetBytes(partition.Key.ToString(CultureInfo.InvariantCulture));
            foreach (var i in partition)
            {
                // Live presence shows people (bots and datacenter traffic stay out of it), under the site's privacy mode,
                // and only what was stored.
                var mapped = batch.Entries[i].Mapped;
                if (!mapped.IsPoison && batch.Prepared!.LiveEventOf(i, mapped.Row) is { } live && bundle.Add(live) is { } full)
                {
                    messages.Add((key, full));
                }
            }

            if (bundle.Complete() is { } last)
            {
                messages.Add((key, last));
            }
        }

        return new LiveMessages(poisoned, messages);
    }

    private void Produce(byte[] key, byte[] value)
    {
        try
        {
            producer.Produce(options.EnrichedTopic, new Message<byte[]?, byte[]?> { Key = key, Value = value, Headers = EnrichedHeaders() },
                onEnrichedDelivered);
        }
        catch (ProduceException<byte[]?, byte[]?>)
        {
            // The local queue is full (Kafka is slow or down); presence catches up with the next events.
            metrics.EnrichedFailed();
        }

        static Headers EnrichedHeaders() => new() { { EventCodec.SchemaHeader, LiveEventCodec.SchemaValue } };
    }
}

/// <summary>A batch's messages for live presence (key, value), and how many rows were set aside when they were built.</summary>
internal sealed record LiveMessages(int PoisonedRows, List<(byte[] Key, byte[] Value)> Messages);
