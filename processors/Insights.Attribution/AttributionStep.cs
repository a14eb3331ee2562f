using System.Diagnostics;
using Insights.Attribution.Engine;
using Insights.Attribution.Storage;
using Insights.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Attribution;

/// <summary>
/// The I/O shell around <see cref="AttributionEngine"/>, as a step of the processors' batch: prepare (once per batch)
/// → load the touched components from ClickHouse → compute → write → let the engine remember the stored links. It takes
/// the events the processors already decoded, so every event is read from Kafka and decoded once. Every write is
/// idempotent and versioned, so a retried or replayed batch changes no number (see the engine's remarks).
/// </summary>
/// <remarks>
/// Not thread-safe: the engine's memory (weak links, stored links) is one batch's at a time, so the caller runs one
/// <see cref="AttributeAsync"/> at a time and waits for it before the next batch (or the next attempt of this one).
/// </remarks>
public sealed class AttributionStep(
    AttributionEngine engine,
    ClickHouseFacts store,
    AttributionMetrics metrics,
    IOptions<AttributionOptions> attributionOptions,
    ILogger<AttributionStep> logger)
{
    private readonly AttributionOptions options = attributionOptions.Value;

    /// <summary>One attempt for <paramref name="batch"/>: nothing when an earlier attempt finished it.</summary>
    public async Task AttributeAsync(AttributionBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Done)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var timer = metrics.Stages.Time("prepare");
        var prepared = batch.Prepared ??= Prepare(batch.Events);
        timer.Next("load");
        var (facts, stats) = await ComponentLoader.LoadAsync(prepared, store, options.MaxComponentNodes, options.MaxLoadRounds, cancellationToken);
        if (stats.Truncated)
        {
            metrics.Truncated();
            LogMessages.ComponentTruncated(logger, stats.Nodes, stats.Rounds);
        }

        timer.Next("compute");
        var output = engine.Compute(prepared, facts);
        timer.Next("write");
        foreach (var (table, rows) in await store.WriteAsync(output, cancellationToken))
        {
            metrics.Written(table, rows);
        }

        engine.Commit(prepared);
        timer.Stop();
        metrics.Batch(Stopwatch.GetElapsedTime(started), stats.Nodes);
        batch.Done = true;
    }

    private PreparedBatch Prepare(IReadOnlyList<PipelineEvent> events)
    {
        var result = engine.Prepare(events);
        foreach (var (reason, count) in result.Skipped)
        {
            metrics.Skipped(reason, count);
        }

        return result;
    }
}

/// <summary>
/// One batch's events as attribution sees them (in Kafka order per partition), and how far attribution got with them,
/// kept between attempts so a retry neither prepares the batch twice nor writes it again once done.
/// </summary>
public sealed class AttributionBatch(IReadOnlyList<PipelineEvent> events)
{
    public IReadOnlyList<PipelineEvent> Events { get; } = events;

    /// <summary>The engine's preparation of <see cref="Events"/>: made once (it feeds the weak-link memory).</summary>
    internal PreparedBatch? Prepared { get; set; }

    /// <summary>Written, and the stored links remembered.</summary>
    public bool Done { get; internal set; }
}
