using System.Globalization;

namespace Insights.ControlPlane.Cli.Events;

/// <summary>What an import is asked to do, with every bound resolved.</summary>
public sealed record ImportPlan
{
    public required string File { get; init; }

    public required ImportLinePreparer Preparer { get; init; }

    public int BatchEvents { get; init; } = 500;

    /// <summary>Bytes of events per request, under ingest's <c>Ingest:MaxRequestBytes</c> (500 KiB) with room for the brackets.</summary>
    public int BatchBytes { get; init; } = 480 * 1024;

    public int MaxLineBytes { get; init; } = 32 * 1024;

    public bool Strict { get; init; }

    /// <summary>Start at this line (1-based): an operator's resume without a checkpoint.</summary>
    public long FromLine { get; init; } = 1;

    public string? CheckpointPath { get; init; }

    /// <summary>Events per second at most; 0 = as fast as ingest takes them.</summary>
    public double Rate { get; init; }

    /// <summary>Problems printed one by one; beyond, only counted (a broken file must not flood a terminal).</summary>
    public int MaxReported { get; init; } = 100;
}

/// <summary>How an import ended.</summary>
public sealed record ImportSummary(long Lines, long Sent, long Accepted, long Problems, long FirstLine, bool Stopped, TimeSpan Elapsed, int Retries)
{
    public IReadOnlyDictionary<string, long> ProblemsByReason { get; init; } = new Dictionary<string, long>();
}

/// <summary>
/// An NDJSON file into a site, through ingest: read line by line (bounded), prepare each line
/// (<see cref="ImportLinePreparer"/>), send batches in file order and wait for each to be acknowledged before the next,
/// so the checkpoint written after a batch is exact. A line refused here or by ingest is reported with its number and
/// skipped, or with <see cref="ImportPlan.Strict"/> ends the import after the events before it. Without a sender
/// (<c>--dry-run</c>) every line is checked and nothing is sent.
/// </summary>
public sealed class EventImport(IngestSender? sender, ProgressMeter progress, TimeProvider time)
{
    public async Task<ImportSummary> RunAsync(Stream file, ImportPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(plan);
        var length = file.CanSeek ? file.Length : 0;
        var (startLine, startOffset, accepted) = (1L, 0L, 0L);
        if (plan.CheckpointPath is { } checkpointPath && ImportCheckpoint.Read(checkpointPath) is { } checkpoint)
        {
            if (checkpoint.FileLength != length)
            {
                throw new AdminException($"the checkpoint {checkpointPath} is of a file of {checkpoint.FileLength} bytes, {plan.File} has {length}: " +
                    "the file changed; delete the checkpoint to import it from the first line (events already imported are not counted twice)");
            }

            (startLine, startOffset, accepted) = (checkpoint.NextLine, checkpoint.Offset, checkpoint.Accepted);
            file.Seek(startOffset, SeekOrigin.Begin);
        }

        var lines = new NdjsonLines(file, plan.MaxLineBytes, startOffset, startLine);
        var started = time.GetTimestamp();
        var batch = new List<byte[]>(plan.BatchEvents);
        var batchLines = new List<long>(plan.BatchEvents);
        var (batchBytes, read, sent, problems, lastLine, lastEnd) = (0, 0L, 0L, 0L, startLine - 1, startOffset);
        var byReason = new Dictionary<string, long>(StringComparer.Ordinal);
        var stopped = false;

        void Report(LineProblem problem)
        {
            problems++;
            byReason[problem.Reason] = byReason.GetValueOrDefault(problem.Reason) + 1;
            if (problems <= plan.MaxReported)
            {
                progress.Say(problem.ToString());
            }
            else if (problems == plan.MaxReported + 1)
            {
                progress.Say($"(more problems are counted, not listed; --max-reported raises the limit)");
            }
        }

        async Task FlushAsync()
        {
            if (batch.Count > 0 && sender is not null)
            {
                var outcome = await sender.SendAsync(batch, cancellationToken);
                accepted += outcome.Accepted;
                foreach (var (index, reason, detail) in outcome.Rejected)
                {
                    Report(new LineProblem(index >= 0 && index < batchLines.Count ? batchLines[index] : -1, reason, "ingest: " + detail));
                }
            }

            sent += batch.Count;
            batch.Clear();
            batchLines.Clear();
            batchBytes = 0;
            if (sender is not null && plan.CheckpointPath is { } path)
            {
                new ImportCheckpoint(Path.GetFullPath(plan.File), length, lastLine + 1, lastEnd, accepted, Done: false).Write(path);
            }

            if (plan.Rate > 0 && sent > 0)
            {
                var due = TimeSpan.FromSeconds(sent / plan.Rate) - time.GetElapsedTime(started);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, time, cancellationToken);
                }
            }

            progress.Report(lastEnd, accepted);
        }

        while (lines.TryRead(out var raw))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (raw.Number < plan.FromLine)
            {
                (lastLine, lastEnd) = (raw.Number, raw.End);
                continue;
            }

            read++;
            var prepared = plan.Preparer.Prepare(raw);
            if (prepared.Problem is { } problem)
            {
                if (plan.Strict)
                {
                    // Everything before the bad line goes in; the checkpoint then points at it.
                    await FlushAsync();
                    Report(problem);
                    stopped = true;
                    break;
                }

                Report(problem);
            }
            else if (prepared.Event is { } e)
            {
                if (batch.Count > 0 && (batch.Count == plan.BatchEvents || batchBytes + e.Length + 1 > plan.BatchBytes))
                {
                    await FlushAsync();
                    if (plan.Strict && problems > 0)
                    {
                        // Ingest refused an event of that batch.
                        stopped = true;
                        break;
                    }
                }

                batch.Add(e);
                batchLines.Add(raw.Number);
                batchBytes += e.Length + 1;
            }

            (lastLine, lastEnd) = (raw.Number, raw.End);
            if (read % 1024 == 0)
            {
                progress.Report(lastEnd, accepted);
            }
        }

        if (!stopped)
        {
            await FlushAsync();
            stopped = plan.Strict && problems > 0;
            if (sender is not null && plan.CheckpointPath is { } path)
            {
                new ImportCheckpoint(Path.GetFullPath(plan.File), length, lastLine + 1, lastEnd, accepted, Done: true).Write(path);
            }
        }

        progress.Finish();
        return new ImportSummary(read, sent, accepted, problems, startLine, stopped, time.GetElapsedTime(started), sender?.Retries ?? 0)
        {
            ProblemsByReason = byReason,
        };
    }

    public static string Describe(ImportSummary summary, string site, bool dryRun)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var n = (long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        var reasons = summary.ProblemsByReason.Count == 0 ? ""
            : " (" + string.Join(", ", summary.ProblemsByReason.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {n(p.Value)}")) + ")";
        var from = summary.FirstLine > 1 ? $", resumed at line {n(summary.FirstLine)}" : "";
        return dryRun
            ? $"dry run: {n(summary.Lines)} lines read{from}, {n(summary.Sent)} events would be sent to site {site}, {n(summary.Problems)} lines refused{reasons}"
            : $"imported into site {site}: {n(summary.Accepted)} events accepted by ingest from {n(summary.Lines)} lines read{from}, " +
              $"{n(summary.Problems)} lines refused{reasons}, {summary.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s" +
              (summary.Retries > 0 ? $", {n(summary.Retries)} requests retried" : "") +
              (summary.Stopped ? "; stopped at the first refused line (--strict)" : "");
    }
}
