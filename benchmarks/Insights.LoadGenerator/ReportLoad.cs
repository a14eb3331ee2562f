using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace Insights.LoadGenerator;

/// <summary>
/// The report-latency mode (<c>insights-load reports</c>): seeds 30 days of history (<see cref="ReportSeed"/>) when
/// <c>--clickhouse</c> is given, then runs <c>--readers</c> concurrent readers, each cycling through every report of the
/// query API for <c>--duration</c>, and prints p50/p95/p99 per report. Run it beside <c>insights-load load --rate 5000</c>
/// to measure the reports while ingest works (<c>benchmarks/report-load.sh</c> does both).
/// </summary>
internal sealed class ReportLoad(LoadOptions options, Uri? clickHouse, string database, int readers, long events)
{
    /// <summary>Pulls this mode's own options out of the arguments; the rest are the shared <see cref="LoadOptions"/>.</summary>
    public static ReportLoad Parse(IReadOnlyList<string> args)
    {
        Uri? clickHouse = null;
        var database = "insights";
        var readers = 4;
        var events = ReportSeed.Events;
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--clickhouse":
                    clickHouse = new Uri(Value());
                    break;
                case "--database":
                    database = Value();
                    break;
                case "--readers":
                    readers = int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) && r is > 0 and <= 256
                        ? r : throw new ArgumentException("--readers must be 1-256");
                    break;
                case "--events":
                    events = long.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var e) && e is >= 1000 and <= 100_000_000
                        ? e : throw new ArgumentException("--events must be 1000-100000000");
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        return new ReportLoad(LoadOptions.Parse(rest), clickHouse, database, readers, events);
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var query = options.Query ?? throw new ArgumentException("reports needs --query");
        var start = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-30);
        if (clickHouse is not null)
        {
            using var ch = new HttpClient { BaseAddress = clickHouse, Timeout = TimeSpan.FromMinutes(30) };
            start = await ReportSeed.EnsureAsync(ch, database, options.Site, events, cancellationToken);
        }

        using var http = new HttpClient { BaseAddress = query, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ReadKey);
        var from = start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = start.AddDays(29).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var site = Uri.EscapeDataString(options.Site);
        var range = $"from={from}&to={to}";
        // Every report a person opens, over the seeded month; a visitor and an order the seed wrote for the timelines.
        (string Name, string Path)[] reports =
        [
            ("stats", $"/v1/sites/{site}/stats?{range}"),
            ("stats country=DE compare", $"/v1/sites/{site}/stats?{range}&country=DE&compare=previous"),
            ("stats page", $"/v1/sites/{site}/stats?{range}&page=/thank-you"),
            ("goals", $"/v1/sites/{site}/goals?{range}"),
            ("sales", $"/v1/sites/{site}/sales?{range}&model=last_chat"),
            ("companies", $"/v1/sites/{site}/companies?{range}"),
            ("company", $"/v1/sites/{site}/companies/acme-7-00000007?{range}"),
            ("visitor", $"/v1/sites/{site}/visitors/seed-v4242"),
            ("order path", $"/v1/sites/{site}/orders/seed-o1234"),
            ("live snapshot", $"/v1/sites/{site}/live"),
        ];

        // One request each first: a report refused (4xx) is a broken run, not a latency. A 503 (the query ran past
        // QueryApi:QueryTimeoutSeconds on a busy machine) is counted among the failures below instead.
        foreach (var (name, path) in reports)
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
            if ((int)response.StatusCode is >= 400 and < 500)
            {
                Console.Error.WriteLine($"reports: {name} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
                return 1;
            }
        }

        var latencies = reports.ToDictionary(r => r.Name, _ => new LatencyRecorder());
        var failed = reports.ToDictionary(r => r.Name, _ => new LatencyRecorder());
        var failures = 0L;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(options.Duration);
        Console.WriteLine($"reports: {readers} readers for {options.Duration.TotalSeconds:F0} s on {options.Site}, {from} .. {to}, load average {LoadAverage()}");
        var tasks = Enumerable.Range(0, readers).Select(reader => Task.Run(async () =>
        {
            for (var i = reader; !stop.IsCancellationRequested; i++)
            {
                var (name, path) = reports[i % reports.Length];
                var watch = Stopwatch.StartNew();
                try
                {
                    using var response = await http.GetAsync(new Uri(path, UriKind.Relative), HttpCompletionOption.ResponseContentRead, stop.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        latencies[name].Record(watch.Elapsed);
                    }
                    else
                    {
                        Interlocked.Increment(ref failures);
                        failed[name].Record(watch.Elapsed);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }, CancellationToken.None)).ToArray();
        await Task.WhenAll(tasks);

        Console.WriteLine($"load average at the end: {LoadAverage()}; failed requests: {failures}");
        Console.WriteLine("| report | answered | p50 ms | p95 ms | p99 ms | failed (503) |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (name, _) in reports)
        {
            var l = latencies[name];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {l.Count} | {l.Percentile(50).TotalMilliseconds:F0} | {l.Percentile(95).TotalMilliseconds:F0} | {l.Percentile(99).TotalMilliseconds:F0} | {failed[name].Count} |"));
        }

        return failures == 0 ? 0 : 1;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
