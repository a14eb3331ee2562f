using System.Net;
using Insights.Contracts;
using Insights.Enrichment;
using Insights.Processors.Sessions;

namespace Insights.Processors;

/// <summary>A batch ready to write: its <c>events</c> rows and <c>sessions</c> rows, and the sessions' new states.</summary>
internal sealed class PreparedBatch
{
    /// <summary>Rows in <see cref="EnrichedRowMapper.Columns"/> order; events a replay already stored have none.</summary>
    public required List<object[]> EventRows { get; init; }

    /// <summary>For each of <see cref="EventRows"/>, the index of its entry in the batch.</summary>
    public required List<int> RowEntries { get; init; }

    /// <summary>Rows in <see cref="Session.Columns"/> order: every session an event of the batch changed.</summary>
    public required List<object[]> SessionRows { get; init; }

    public required FoldResult Sessions { get; init; }

    /// <summary>
    /// Per entry: true when live presence must skip the event: not a visitor's (a bot, a datacenter), or an operator's
    /// replay (<see cref="EventCodec.ReplayHeader"/>), which is not news.
    /// </summary>
    public required bool[] NotLive { get; init; }

    /// <summary>Per entry: the decoded event (null for a poison message) and what enrichment found for it.</summary>
    public required PipelineEvent?[] Events { get; init; }

    public required EnrichedEvent[] Enriched { get; init; }

    /// <summary>Per entry: the visit the event was folded into, as of the end of the batch (null: a replay, no visitor).</summary>
    public required Session?[] Visits { get; init; }

    /// <summary>
    /// The <c>insights.enriched</c> event of an entry (see <see cref="EnrichedMessage"/>), or null when live presence
    /// must not see it: a poison message, a bot, a datacenter.
    /// </summary>
    public LiveEvent? LiveEventOf(int entry, object[]? row) =>
        NotLive[entry] || Events[entry] is not { } e
            ? null
            : EnrichedMessage.ToLiveEvent(e, Enriched[entry], row?[EnrichedRowMapper.PathColumn] as string, Visits[entry]);
}

/// <summary>
/// The processing steps between decoding and writing, once per batch: enrichment (bots, geo, device, company, IP
/// privacy — see Insights.Enrichment), then sessions (visitors' events cut at 30 minutes of inactivity, continued
/// from ClickHouse for visitors memory does not hold), then the rows to insert.
/// </summary>
/// <remarks>
/// Bot and datacenter events are stored, flagged by <c>bot_reason</c>, and take no part in sessions: they are not
/// visitors, and every visitor report filters them out. Keeping them loses nothing (server-side events such as
/// orders can come from cloud networks) and lets a wrong verdict be recounted.
/// </remarks>
public sealed class BatchPreparer(EnrichmentPipeline enrichment, Sessionizer sessionizer, SessionStore store, ProcessorMetrics metrics)
{
    internal async Task<PreparedBatch> PrepareAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        var entries = batch.Entries;
        var events = new PipelineEvent[entries.Count];
        var entryOf = new int[entries.Count];
        var count = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Mapped is { IsPoison: false, Event: { } e })
            {
                events[count] = e;
                entryOf[count++] = i;
            }
        }

        var timer = metrics.Consumer.Time("enrich");
        var enriched = new EnrichedEvent[count];
        enrichment.Enrich(events.AsSpan(0, count), enriched);
        timer.Next("sessions");

        var visits = new VisitAttributes[count];
        var inputs = new List<SessionInput>(count);
        var notLive = new bool[entries.Count];
        var eventOfEntry = new PipelineEvent?[entries.Count];
        var enrichedOfEntry = new EnrichedEvent[entries.Count];
        for (var j = 0; j < count; j++)
        {
            var entry = entries[entryOf[j]];
            (eventOfEntry[entryOf[j]], enrichedOfEntry[entryOf[j]]) = (events[j], enriched[j]);
            visits[j] = VisitAttributes.Of(enriched[j]);
            var replay = entry.Message.Message.Headers?.TryGetLastBytes(EventCodec.ReplayHeader, out _) == true;
            notLive[entryOf[j]] = replay;
            if (enriched[j].IsDropped)
            {
                notLive[entryOf[j]] = true;
            }
            else if (!string.IsNullOrEmpty(events[j].AnonymousId))
            {
                inputs.Add(new SessionInput(j, entry.Message.Partition.Value, entry.Message.Offset.Value, events[j],
                    (string)entry.Mapped.Row![EnrichedRowMapper.PathColumn], visits[j], replay));
            }
        }

        var needs = sessionizer.Plan(inputs);
        if (needs.Count > 0)
        {
            foreach (var (need, sessions) in await store.LookUpAsync(needs, cancellationToken))
            {
                sessionizer.Absorb(need, sessions);
            }
        }

        var fold = sessionizer.Fold(inputs, count);
        var replayed = new bool[count];
        var sessionOfEntry = new Session?[entries.Count];
        var changed = fold.Changed.ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            replayed[input.Index] = fold.SessionIds[input.Index] is null;
            sessionOfEntry[entryOf[input.Index]] = fold.SessionIds[input.Index] is { } id ? changed.GetValueOrDefault(id) : null;
        }

        timer.Next("rows");
        var rows = new List<object[]>(count);
        var rowEntries = new List<int>(count);
        var ipv6 = new Dictionary<IPAddress, IPAddress>();
        for (var j = 0; j < count; j++)
        {
            // A replayed visitor event is already stored, with the session it was given then: writing it again could
            // only give it another.
            if (!replayed[j])
            {
                var row = EnrichedRowMapper.ToRow(entries[entryOf[j]].Mapped.Row!, enriched[j], visits[j], fold.SessionIds[j], ipv6);
                if (fold.FirstTimeOf(j) is { } first)
                {
                    row[EnrichedRowMapper.TimestampColumn] = first;
                }

                rows.Add(row);
                rowEntries.Add(entryOf[j]);
            }
        }

        metrics.Sessionized(fold.Started, fold.Replayed);
        var prepared = new PreparedBatch
        {
            EventRows = rows,
            RowEntries = rowEntries,
            SessionRows = [.. fold.Changed.Select(s => s.ToRow())],
            Sessions = fold,
            NotLive = notLive,
            Events = eventOfEntry,
            Enriched = enrichedOfEntry,
            Visits = sessionOfEntry,
        };
        timer.Stop();
        return prepared;
    }
}
