using System.Net.Http.Headers;
using System.Text.Json;

namespace Insights.LoadGenerator;

/// <summary>
/// Ingest-to-queryable freshness: the time from sending a batch until the query API counts it. The run
/// remembers, every few milliseconds, (send time, page views acknowledged so far); a poller reads the
/// site's page-view count from the query API; a checkpoint is fresh at the first poll whose count (minus the
/// count before the run) reaches it. Resolution is the poll interval, which is reported with the figures.
/// </summary>
public sealed class FreshnessTracker(Uri query, string site, string readKey, DateTimeOffset runStart, TimeSpan pollInterval,
    TimeSpan? requestTimeout = null, bool fullReport = false) : IDisposable
{
    /// <summary>How many request timeouts the count before the run may take in all: a busy query API answers late, not never.</summary>
    private const int BaselineAttempts = 6;

    /// <summary>Each poll runs a stats report over the run's rows: polling faster loads the very engine whose freshness it
    /// measures. The figure's resolution is this interval.</summary>
    public TimeSpan PollInterval => pollInterval;
    private readonly HttpClient http = CreateClient(query, readKey, requestTimeout ?? TimeSpan.FromSeconds(10));
    private readonly Lock gate = new();
    private readonly List<(DateTimeOffset SentAt, long Acknowledged)> checkpoints = [];
    private readonly List<double> freshnessSeconds = [];
    private int nextCheckpoint;
    private long acknowledged;
    private DateTimeOffset lastCheckpoint;

    public long Baseline { get; private set; }

    public long Counted { get; private set; }

    /// <summary>
    /// The site's page-view count before the run. Polls that fail or time out are retried (a loaded machine's query API
    /// can take longer than one request's timeout); after <see cref="BaselineAttempts"/> the run stops, naming the fix.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < BaselineAttempts; attempt++)
        {
            try
            {
                Baseline = await CountAsync(cancellation);
                return;
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellation.IsCancellationRequested))
            {
                last = e;
                await Task.Delay(pollInterval, cancellation);
            }
        }

        throw new InvalidOperationException(
            $"The query API at {query} gave no page-view count for site '{site}' in {BaselineAttempts} tries ({last?.Message}): start the system " +
            "(scripts/run.sh), check --site and --read-key, or pass --query none to measure without freshness.", last);
    }

    /// <summary>Called when a batch sent at <paramref name="sentAt"/> was acknowledged.</summary>
    public void Acknowledged(DateTimeOffset sentAt, int pageViews)
    {
        lock (gate)
        {
            acknowledged += pageViews;
            if (sentAt - lastCheckpoint >= TimeSpan.FromMilliseconds(20))
            {
                checkpoints.Add((sentAt, acknowledged));
                lastCheckpoint = sentAt;
            }
        }
    }

    public long AcknowledgedPageViews
    {
        get
        {
            lock (gate)
            {
                return acknowledged;
            }
        }
    }

    /// <summary>Polls until cancelled; each poll resolves the checkpoints it covers.</summary>
    public async Task PollAsync(CancellationToken cancellation)
    {
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                await PollOnceAsync(cancellation);
                await Task.Delay(PollInterval, cancellation);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // the run is over
        }
    }

    /// <summary>Waits until every acknowledged page view is counted, or the timeout passes.</summary>
    public async Task<bool> SettleAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < deadline)
        {
            await PollOnceAsync(cancellation);
            if (Counted - Baseline >= AcknowledgedPageViews)
            {
                return true;
            }

            await Task.Delay(PollInterval, cancellation);
        }

        return false;
    }

    public IReadOnlyList<double> Samples
    {
        get
        {
            lock (gate)
            {
                return freshnessSeconds.Order().ToArray();
            }
        }
    }

    public void Dispose() => http.Dispose();

    private async Task PollOnceAsync(CancellationToken cancellation)
    {
        long count;
        try
        {
            count = await CountAsync(cancellation);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellation.IsCancellationRequested))
        {
            return; // a failed or timed-out poll only coarsens the resolution
        }

        var now = DateTimeOffset.UtcNow;
        lock (gate)
        {
            Counted = count;
            while (nextCheckpoint < checkpoints.Count && count - Baseline >= checkpoints[nextCheckpoint].Acknowledged)
            {
                freshnessSeconds.Add((now - checkpoints[nextCheckpoint].SentAt).TotalSeconds);
                nextCheckpoint++;
            }
        }
    }

    /// <summary>
    /// The site's page views from the run's start (to the second, rounded down: every event of the run carries a later
    /// timestamp, taken when it is sent) on. The report reads what the range holds, so a range reaching back before the
    /// run would also make each poll read whatever came before it (run-load.sh's earlier steps put 650,000 events into
    /// the hour before its long runs), and time that, not the run's freshness. It asks for the totals only
    /// (<c>include=totals</c>), as a live counter would, unless told to ask for the full report (<c>--probe full</c>): the
    /// top lists and the twelve breakdowns are what a dashboard asks for, and their cost is measured as report latency
    /// (<c>insights-load reports</c>), not as freshness.
    /// </summary>
    private async Task<long> CountAsync(CancellationToken cancellation)
    {
        var from = runStart.ToString("yyyy-MM-ddTHH:mm:ssZ");
        var to = DateTimeOffset.UtcNow.AddHours(2).ToString("yyyy-MM-ddTHH:mm:ssZ");
        using var response = await http.GetAsync(new Uri($"/v1/sites/{site}/stats?from={from}&to={to}&interval=hour{(fullReport ? "" : "&include=totals")}", UriKind.Relative), cancellation);
        response.EnsureSuccessStatusCode();
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellation), cancellationToken: cancellation);
        return document.RootElement.GetProperty("pageViews").GetInt64();
    }

    private static HttpClient CreateClient(Uri query, string readKey, TimeSpan timeout)
    {
        var client = new HttpClient { BaseAddress = query, Timeout = timeout };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", readKey);
        return client;
    }
}
