using System.Globalization;

namespace Insights.LoadGenerator;

/// <summary>Command-line options of every mode; each has a default that works against scripts/run.sh.</summary>
public sealed record LoadOptions
{
    public Uri Ingest { get; init; } = new("http://127.0.0.1:8080");

    public string Key { get; init; } = "loadtest-write-key-0001";

    /// <summary>Demo: the server key that sends chats and orders, which a public write key may not send.</summary>
    public string ServerKey { get; init; } = "demo-server-key-0001";

    /// <summary>Query API for freshness and the final count check; null skips both.</summary>
    public Uri? Query { get; init; } = new("http://127.0.0.1:8081");

    public string ReadKey { get; init; } = "loadtest-read-key-0001";

    public string Site { get; init; } = "loadtest";

    /// <summary>Events per second to offer; 0 sends as fast as the target accepts.</summary>
    public int Rate { get; init; }

    public int BatchSize { get; init; } = 100;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Load and produce: stop after this many events even if the duration has not passed (0 = no limit). A backlog
    /// built while the processors are paused must stay within what the broker keeps (the dev stack's ~60 MiB).
    /// </summary>
    public long MaxEvents { get; init; }

    /// <summary>Requests in flight at once.</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary>How long to wait after the run for the query API to count everything.</summary>
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often freshness polls the query API.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// What each freshness poll asks: the stats report's totals only (<c>include=totals</c>, what a live counter asks), or
    /// the full report with its lists and breakdowns (<c>full</c>, how the poll asked until 2026-12-06).
    /// </summary>
    public bool FullReportProbe { get; init; }

    public bool Progress { get; init; } = !Console.IsOutputRedirected;

    /// <summary>
    /// Demo: days of history sent first, with past timestamps. Ingest stamps events older than its Ingest:MaxPastAge
    /// (7 days by default) with the time it received them, so more days need that setting raised (run.sh --demo does).
    /// </summary>
    public int HistoryDays { get; init; } = 7;

    /// <summary>Demo: the seed of the history; the same seed gives the same history (and the same event ids).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Demo: the file holding the demo sign-in and its client sites' keys (written by demo-setup).</summary>
    public string? AccountFile { get; init; }

    /// <summary>Demo setup: the partner admin's invitation token (iin_…) from insights-admin init, accepted with a generated password.</summary>
    public string? Invitation { get; init; }

    /// <summary>Load and produce: a file the figures are also written to, one <c>key=value</c> per line, for scripts
    /// (benchmarks/run-load.sh) that compare them with targets.</summary>
    public string? SummaryFile { get; init; }

    /// <summary>Produce mode: the Kafka bootstrap servers the raw producer writes to (ingest's broker).</summary>
    public string Kafka { get; init; } = "127.0.0.1:9092";

    /// <summary>Bare mode: the port of the baseline Kestrel endpoint.</summary>
    public int BarePort { get; init; } = 8090;

    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var options = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--ingest" => options with { Ingest = new Uri(Value()) },
                "--key" => options with { Key = Value() },
                "--query" => options with { Query = Value() is "none" ? null : new Uri(args[i]) },
                "--server-key" => options with { ServerKey = Value() },
                "--read-key" => options with { ReadKey = Value() },
                "--site" => options with { Site = Value() },
                "--rate" => options with { Rate = PositiveOrZero(Value(), "--rate") },
                "--batch" => options with { BatchSize = Math.Clamp(PositiveOrZero(Value(), "--batch"), 1, 500) },
                "--duration" => options with { Duration = ParseDuration(Value()) },
                "--max-events" => options with { MaxEvents = PositiveOrZero(Value(), "--max-events") },
                "--concurrency" => options with { Concurrency = Math.Max(1, PositiveOrZero(Value(), "--concurrency")) },
                "--settle" => options with { SettleTimeout = ParseDuration(Value()) },
                "--no-progress" => options with { Progress = false },
                "--poll" => options with { PollInterval = ParseDuration(Value()) },
                "--probe" => options with
                {
                    FullReportProbe = Value() switch
                    {
                        "totals" => false,
                        "full" => true,
                        _ => throw new ArgumentException($"--probe takes totals or full, not '{args[i]}'"),
                    },
                },
                "--summary" => options with { SummaryFile = Value() },
                "--kafka" => options with { Kafka = Value() },
                "--port" => options with { BarePort = PositiveOrZero(Value(), "--port") },
                "--history-days" => options with { HistoryDays = Math.Min(PositiveOrZero(Value(), "--history-days"), 365) },
                "--seed" => options with { Seed = PositiveOrZero(Value(), "--seed") },
                "--account" => options with { AccountFile = Value() },
                "--invitation" => options with { Invitation = Value() },
                var other => throw new ArgumentException($"unknown option {other}"),
            };
        }

        return options;
    }

    private static int PositiveOrZero(string value, string name) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new ArgumentException($"{name} must be a non-negative integer, got '{value}'");

    /// <summary>"250ms", "90", "90s", "5m", "1h".</summary>
    private static TimeSpan ParseDuration(string value)
    {
        if (value.EndsWith("ms", StringComparison.Ordinal))
        {
            return double.TryParse(value[..^2], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms > 0
                ? TimeSpan.FromMilliseconds(ms)
                : throw new ArgumentException($"a duration like 250ms, 30s, 5m or 1h was expected, got '{value}'");
        }

        var unit = value[^1];
        var number = char.IsDigit(unit) ? value : value[..^1];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            throw new ArgumentException($"a duration like 250ms, 30s, 5m or 1h was expected, got '{value}'");
        }

        return unit switch
        {
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            _ => TimeSpan.FromSeconds(n),
        };
    }
}
