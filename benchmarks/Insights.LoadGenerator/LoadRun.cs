using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Spectre.Console;

namespace Insights.LoadGenerator;

/// <summary>
/// Drives batches at the ingest endpoint with bounded concurrency and an optional rate, and reports what a
/// capacity plan needs: events/s accepted (202 = Kafka acknowledged), HTTP latency percentiles, refusals by
/// status, and — with the query API — freshness and whether every accepted page view was counted exactly once.
/// </summary>
public sealed class LoadRun(LoadOptions options)
{
    private readonly LatencyRecorder latency = new();
    private readonly Dictionary<int, long> statuses = [];
    private long acceptedEvents;
    private long sentEvents;
    private long reservedEvents; // events the workers have taken a batch for, against --max-events
    private long transportErrors;

    public async Task<int> RunAsync(CancellationToken cancellation)
    {
        var runId = Guid.NewGuid().ToString("N")[..8];
        var traffic = new TrafficModel(runId);
        using var http = CreateClient(options);
        var runStart = DateTimeOffset.UtcNow;
        using var freshness = options.Query is null ? null : new FreshnessTracker(options.Query, options.Site, options.ReadKey, runStart, options.PollInterval,
            fullReport: options.FullReportProbe);
        if (freshness is not null)
        {
            await freshness.StartAsync(cancellation);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        stop.CancelAfter(options.Duration);
        using var pollStop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var poller = freshness?.PollAsync(pollStop.Token) ?? Task.CompletedTask;
        var pacer = new Pacer(options.Rate);
        var clock = Stopwatch.StartNew();

        var workers = Enumerable.Range(0, options.Concurrency)
            .Select(i => Task.Run(() => WorkAsync(http, traffic, pacer, freshness, new Random(i), stop.Token), CancellationToken.None))
            .ToArray();
        var progress = options.Progress ? ShowProgressAsync(clock, freshness, Task.WhenAll(workers)) : Task.WhenAll(workers);
        await progress;
        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed;

        var settled = freshness is null || await freshness.SettleAsync(options.SettleTimeout, cancellation);
        await pollStop.CancelAsync();
        await poller;
        Report(elapsed, freshness, settled);
        return settled && Interlocked.Read(ref transportErrors) == 0 ? 0 : 1;
    }

    private async Task WorkAsync(HttpClient http, TrafficModel traffic, Pacer pacer, FreshnessTracker? freshness,
        Random random, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (!await pacer.WaitAsync(options.BatchSize, stop)
                || (options.MaxEvents > 0 && Interlocked.Add(ref reservedEvents, options.BatchSize) > options.MaxEvents))
            {
                return;
            }

            var (body, pageViews) = traffic.NextBatch(options.BatchSize, random);
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var sentAt = DateTimeOffset.UtcNow;
            var started = Stopwatch.GetTimestamp();
            try
            {
                // Not cancelled by the stop token: a request already sent is seen through, so its events are accounted for.
                using var response = await http.PostAsync(new Uri("/v1/events", UriKind.Relative), content, CancellationToken.None);
                latency.Record(Stopwatch.GetElapsedTime(started));
                Interlocked.Add(ref sentEvents, options.BatchSize);
                lock (statuses)
                {
                    statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
                }

                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    Interlocked.Add(ref acceptedEvents, options.BatchSize);
                    freshness?.Acknowledged(sentAt, pageViews);
                }
                else if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
                {
                    await Task.Delay(RetryAfter(response), stop).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref transportErrors);
            }
        }
    }

    private async Task ShowProgressAsync(Stopwatch clock, FreshnessTracker? freshness, Task done)
    {
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("load", maxValue: options.Duration.TotalSeconds);
                while (!done.IsCompleted)
                {
                    await Task.WhenAny(done, Task.Delay(500));
                    var seconds = Math.Max(0.001, clock.Elapsed.TotalSeconds);
                    var rate = Interlocked.Read(ref acceptedEvents) / seconds;
                    var fresh = freshness is null ? "" : $" counted {freshness.Counted - freshness.Baseline:N0}";
                    task.Description = $"{rate,9:N0} ev/s accepted  p99 {latency.Percentile(99).TotalMilliseconds,6:N1} ms{fresh}";
                    task.Value = Math.Min(seconds, options.Duration.TotalSeconds);
                }

                task.Value = task.MaxValue;
            });
    }

    private void Report(TimeSpan elapsed, FreshnessTracker? freshness, bool settled)
    {
        var accepted = Interlocked.Read(ref acceptedEvents);
        var table = new Table().AddColumns("measure", "value");
        table.AddRow("target", Markup.Escape(options.Ingest.ToString()));
        table.AddRow("duration", $"{elapsed.TotalSeconds:F1} s, batch {options.BatchSize}, concurrency {options.Concurrency}" +
                                  (options.Rate > 0 ? $", offered {options.Rate:N0} ev/s" : ", unthrottled"));
        table.AddRow("events accepted (202)", $"{accepted:N0} ({accepted / elapsed.TotalSeconds:N0} ev/s)");
        table.AddRow("events sent", $"{Interlocked.Read(ref sentEvents):N0}");
        lock (statuses)
        {
            table.AddRow("responses", string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value:N0}")));
        }

        table.AddRow("transport errors", $"{Interlocked.Read(ref transportErrors):N0}");
        table.AddRow("HTTP latency p50 / p95 / p99 / max",
            $"{Ms(latency.Percentile(50))} / {Ms(latency.Percentile(95))} / {Ms(latency.Percentile(99))} / {Ms(latency.Percentile(100))}");
        if (freshness is not null)
        {
            var samples = freshness.Samples;
            table.AddRow("freshness p50 / p95 / p99 (send → counted by query API)",
                samples.Count == 0
                    ? "no samples"
                    : $"{Seconds(samples, 50)} / {Seconds(samples, 95)} / {Seconds(samples, 99)} (poll every {freshness.PollInterval.TotalMilliseconds:N0} ms)");
            var counted = freshness.Counted - freshness.Baseline;
            var verdict = counted == freshness.AcknowledgedPageViews ? "[green]exact: no loss, no duplicates[/]"
                : counted < freshness.AcknowledgedPageViews ? $"[red]missing {freshness.AcknowledgedPageViews - counted:N0}[/]"
                : $"[red]{counted - freshness.AcknowledgedPageViews:N0} counted twice[/]";
            table.AddRow("page views acknowledged / counted", $"{freshness.AcknowledgedPageViews:N0} / {counted:N0} {verdict}" +
                                                            (settled ? "" : " [red](not settled in time)[/]"));
        }

        AnsiConsole.Write(table);
        WriteSummary(elapsed, accepted, freshness, settled);
    }

    private void WriteSummary(TimeSpan elapsed, long accepted, FreshnessTracker? freshness, bool settled)
    {
        if (options.SummaryFile is null)
        {
            return;
        }

        var lines = new List<string>
        {
            FormattableString.Invariant($"accepted={accepted}"),
            FormattableString.Invariant($"accepted_per_second={accepted / elapsed.TotalSeconds:F0}"),
            FormattableString.Invariant($"http_p50_ms={latency.Percentile(50).TotalMilliseconds:F1}"),
            FormattableString.Invariant($"http_p95_ms={latency.Percentile(95).TotalMilliseconds:F1}"),
            FormattableString.Invariant($"http_p99_ms={latency.Percentile(99).TotalMilliseconds:F1}"),
            FormattableString.Invariant($"transport_errors={Interlocked.Read(ref transportErrors)}"),
        };
        if (freshness is not null)
        {
            var samples = freshness.Samples;
            double At(double p) => samples.Count == 0 ? double.NaN : samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(p / 100 * samples.Count) - 1)];
            lines.Add(FormattableString.Invariant($"freshness_p50_s={At(50):F2}"));
            lines.Add(FormattableString.Invariant($"freshness_p95_s={At(95):F2}"));
            lines.Add($"acknowledged_page_views={freshness.AcknowledgedPageViews}");
            lines.Add($"counted_page_views={freshness.Counted - freshness.Baseline}");
            lines.Add($"settled={(settled ? 1 : 0)}");
        }

        File.WriteAllLines(options.SummaryFile, lines);
    }

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:N1} ms";

    private static string Seconds(IReadOnlyList<double> sorted, double p) =>
        $"{sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100 * sorted.Count) - 1)]:N2} s";

    private static TimeSpan RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta is { } delta ? TimeSpan.FromSeconds(Math.Min(5, delta.TotalSeconds)) : TimeSpan.FromMilliseconds(200);

    private static HttpClient CreateClient(LoadOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Concurrency,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            AutomaticDecompression = DecompressionMethods.None,
        };
        var client = new HttpClient(handler) { BaseAddress = options.Ingest, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Insights-Key", options.Key);
        return client;
    }

    /// <summary>Spaces batches to the offered rate; with rate 0 it never waits.</summary>
    private sealed class Pacer(int eventsPerSecond)
    {
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private long granted;

        public async ValueTask<bool> WaitAsync(int events, CancellationToken stop)
        {
            if (stop.IsCancellationRequested)
            {
                return false;
            }

            if (eventsPerSecond == 0)
            {
                return true;
            }

            var due = TimeSpan.FromSeconds((double)(Interlocked.Add(ref granted, events) - events) / eventsPerSecond);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
