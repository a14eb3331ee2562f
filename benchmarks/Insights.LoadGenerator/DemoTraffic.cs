using System.Net;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Insights.LoadGenerator.Demo;

namespace Insights.LoadGenerator;

/// <summary>
/// A dashboard full of lifelike data for a newcomer's first look. First the history: the last
/// <see cref="LoadOptions.HistoryDays"/> days of visits (<see cref="DemoModel"/>), sent with their past timestamps and a
/// progress line per step. Then a steady live trickle: visitors arrive every few seconds, read a few pages over a few
/// minutes, some from companies, some chat with an agent and some buy, then leave — so Live is never empty. Every 10 s
/// it prints what the query API counts (page views, visitors, goal completions, orders and revenue) over all demo sites.
/// </summary>
/// <remarks>
/// Sites: the seeded demo site (<c>control-plane/demo/demo-sites.json</c>, fixed keys) and, when
/// <see cref="LoadOptions.AccountFile"/> names a provisioned demo account, the demo partner's client sites. Every event
/// goes in with the site's server key, as a server-side tag would send it: the one key that may state the visitor's
/// address (<c>context.ip</c>), which is how visitors from real company networks reach a single machine. Keys travel in
/// headers only. History older than ingest's <c>Ingest:MaxPastAge</c> (7 days by default) would be stamped "now":
/// <c>scripts/run.sh --demo</c> raises it for the demo.
/// </remarks>
public sealed class DemoTraffic(LoadOptions options)
{
    private static readonly TimeSpan UnknownKeyPause = TimeSpan.FromMilliseconds(250);

    public async Task<int> RunAsync(CancellationToken cancellation)
    {
        var targets = Targets();
        try
        {
            Console.WriteLine($"demo: sending lifelike traffic to {string.Join(", ", targets.Select(t => t.Model.Site.Id))} at {options.Ingest}; Ctrl-C stops");
            if (options.HistoryDays > 0)
            {
                await BackfillAsync(targets, cancellation);
            }

            await LiveAsync(targets, cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var target in targets)
            {
                target.Dispose();
            }
        }

        return 0;
    }

    /// <summary>The demo account's sign-in (provisioning it first with the invitation when there is none yet); null when neither exists.</summary>
    public static async Task<int> SetUpAsync(LoadOptions options, CancellationToken cancellation)
    {
        if (options.AccountFile is null || options.Query is null)
        {
            throw new ArgumentException("demo-setup needs --account FILE and --query URL");
        }

        try
        {
            var account = DemoAccount.Load(options.AccountFile);
            if (account is null)
            {
                if (string.IsNullOrEmpty(options.Invitation))
                {
                    Console.Error.WriteLine($"demo: no demo account in {options.AccountFile} and no --invitation to create one");
                    return 1;
                }

                account = await DemoAccount.ProvisionAsync(options.Query, options.Invitation, DemoSite.Clients, options.AccountFile, cancellation);
            }

            if (!await account.SignsInAsync(options.Query, cancellation))
            {
                Console.Error.WriteLine($"demo: the demo sign-in in {options.AccountFile} is refused; delete the state directory to start over");
                return 1;
            }

            Console.WriteLine($"demo: demo partner admin {account.Email} signs in; client sites {string.Join(", ", account.Sites.Select(s => s.Id))}");
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or IOException)
        {
            // The partner API refused a step, or the account file is unreadable: the demo still runs, on the seeded site.
            Console.Error.WriteLine($"demo: the demo account could not be set up: {e.Message}");
            return 1;
        }
    }

    private List<Target> Targets()
    {
        var targets = new List<Target> { new(new DemoModel(DemoSite.Showcase, options.Seed), options.ServerKey, options.ReadKey, options) };
        if (options.AccountFile is not null && DemoAccount.Load(options.AccountFile) is { } account)
        {
            foreach (var site in DemoSite.Clients)
            {
                if (account.Sites.FirstOrDefault(s => s.Id == site.Id) is { } keys)
                {
                    targets.Add(new Target(new DemoModel(site, options.Seed), keys.ServerKey, keys.ReadKey, options));
                }
            }
        }

        return targets;
    }

    /// <summary>Each site's history, day by day in time order, in requests of up to 500 events; a progress line per day.</summary>
    private async Task BackfillAsync(List<Target> targets, CancellationToken cancellation)
    {
        var now = DateTimeOffset.UtcNow;
        var earliest = now.AddDays(-options.HistoryDays);
        var latest = now.AddMinutes(-2); // the live trickle takes over from here
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var first = DateOnly.FromDateTime(earliest.UtcDateTime);
        var days = today.DayNumber - first.DayNumber + 1;
        var started = System.Diagnostics.Stopwatch.StartNew();
        long sent = 0;
        Console.WriteLine($"demo: history: {options.HistoryDays} days for {targets.Count} sites, sent with their past timestamps");
        for (var d = 0; d < days; d++)
        {
            var day = first.AddDays(d);
            foreach (var target in targets)
            {
                var events = target.Model.Day(day, today, options.HistoryDays).Where(e => e.At >= earliest && e.At < latest).ToList();
                foreach (var chunk in events.Chunk(options.BatchSize))
                {
                    var batch = new EventBatch();
                    foreach (var e in chunk)
                    {
                        batch.Add(e.Json);
                    }

                    sent += await SendAsync(target.Ingest, batch, cancellation);
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"demo: history [{new string('#', (d + 1) * 20 / days),-20}] {(d + 1) * 100 / days,3}% {day:yyyy-MM-dd}, {sent:N0} events accepted"));
        }

        Console.WriteLine($"demo: history done: {sent:N0} events in {started.Elapsed.TotalSeconds:N1} s; live visitors from now on");
    }

    /// <summary>Visitors arrive at random (about three a minute per site), and each visit's events go out when they are due.</summary>
    private async Task LiveAsync(List<Target> targets, CancellationToken cancellation)
    {
        var random = new Random(DemoModel.StableHash(DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture), options.Seed));
        long sent = 0;
        var visits = 0;
        var nextReport = DateTimeOffset.UtcNow;
        foreach (var target in targets)
        {
            for (var i = 0; i < 4; i++)
            {
                target.Start(random, DateTimeOffset.UtcNow.AddSeconds(random.Next(0, 20)), ref visits);
            }
        }

        while (!cancellation.IsCancellationRequested)
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var target in targets)
            {
                if (random.NextDouble() < 3.0 / 240) // 3 per minute at 4 ticks a second
                {
                    target.Start(random, now, ref visits);
                }

                sent += await SendAsync(target.Ingest, target.Due(now), cancellation);
            }

            if (now >= nextReport)
            {
                nextReport = now.AddSeconds(10);
                Console.WriteLine($"demo: {sent:N0} events sent, {targets.Sum(t => t.OnSite(now))} visitors on the sites; {await TodayAsync(targets, cancellation)}");
            }

            await Task.Delay(250, cancellation);
        }
    }

    /// <summary>
    /// Sends the batch; returns how many of its events ingest accepted. A key ingest does not know yet is asked again for
    /// a while (<paramref name="unknownKeyWait"/>, 30 s unless given): a client site provisioned a moment ago reaches
    /// ingest with its next read of the site store, and its first day of history must not be thrown away meanwhile.
    /// </summary>
    internal static async Task<int> SendAsync(HttpClient ingest, EventBatch batch, CancellationToken cancellation, TimeSpan? unknownKeyWait = null)
    {
        if (batch.Count == 0)
        {
            return 0;
        }

        System.Diagnostics.Stopwatch? refused = null; // since the first unknown_key: a slow first answer costs no retry
        while (true)
        {
            try
            {
                using var response = await ingest.PostAsync(new Uri("/v1/events", UriKind.Relative),
                    new StringContent(batch.ToJson(), Encoding.UTF8, "application/json"), cancellation);
                var body = await response.Content.ReadAsStringAsync(cancellation);
                if (response.StatusCode == HttpStatusCode.Unauthorized && ReasonOf(body) == "unknown_key"
                    && (refused ??= System.Diagnostics.Stopwatch.StartNew()).Elapsed < (unknownKeyWait ?? TimeSpan.FromSeconds(30)))
                {
                    await Task.Delay(UnknownKeyPause, cancellation);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    Console.WriteLine($"demo: ingest answered {(int)response.StatusCode}: {body}");
                    return 0;
                }

                using var answer = JsonDocument.Parse(body);
                return answer.RootElement.GetProperty("accepted").GetInt32();
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException)
            {
                Console.WriteLine($"demo: ingest unreachable ({e.Message}); retrying");
                return 0;
            }
        }

        static string? ReasonOf(string body)
        {
            try
            {
                using var problem = JsonDocument.Parse(body);
                return problem.RootElement.ValueKind == JsonValueKind.Object && problem.RootElement.TryGetProperty("reason", out var reason)
                    && reason.ValueKind == JsonValueKind.String ? reason.GetString() : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>What the query API counts over the last 24 hours on all demo sites, as one line: the reports a site owner would open.</summary>
    private static async Task<string> TodayAsync(List<Target> targets, CancellationToken cancellation)
    {
        if (targets[0].Query is null)
        {
            return "";
        }

        var range = $"from={DateTimeOffset.UtcNow.AddDays(-1):yyyy-MM-ddTHH:mm:ssZ}&to={DateTimeOffset.UtcNow.AddHours(1):yyyy-MM-ddTHH:mm:ssZ}";
        try
        {
            long pageViews = 0, visitors = 0, orders = 0;
            decimal revenue = 0, afterChat = 0;
            var completions = new Dictionary<string, long>();
            foreach (var target in targets)
            {
                using var stats = await target.GetAsync($"stats?{range}", cancellation);
                using var goals = await target.GetAsync($"goals?{range}", cancellation);
                using var sales = await target.GetAsync($"sales?{range}", cancellation);
                pageViews += stats.RootElement.GetProperty("pageViews").GetInt64();
                visitors += stats.RootElement.GetProperty("visitors").GetInt64();
                foreach (var goal in goals.RootElement.GetProperty("goals").EnumerateArray())
                {
                    var id = goal.GetProperty("id").GetString()!;
                    completions[id] = completions.GetValueOrDefault(id) + goal.GetProperty("completions").GetInt64();
                }

                orders += sales.RootElement.GetProperty("orders").GetInt64();
                revenue += sales.RootElement.GetProperty("revenue").GetDecimal();
                afterChat += sales.RootElement.GetProperty("chatAttributedRevenue").GetDecimal();
            }

            return string.Create(CultureInfo.InvariantCulture,
                $"query API, last 24 h: {pageViews:N0} page views, {visitors:N0} visitors; goals completed: " +
                $"{string.Join(", ", completions.Select(c => $"{c.Key} {c.Value:N0}"))}; orders {orders:N0}, revenue {revenue:N2} USD ({afterChat:N2} USD after a chat)");
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return "stopping";
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or TaskCanceledException)
        {
            return $"query API not answering yet ({e.Message})";
        }
    }

    /// <summary>One demo site: its model, its clients (server key for ingest, read key for the query API) and its visits under way.</summary>
    private sealed class Target : IDisposable
    {
        private readonly List<DemoEvent> pending = [];
        private readonly Dictionary<string, DateTimeOffset> leaving = [];

        public Target(DemoModel model, string serverKey, string readKey, LoadOptions options)
        {
            Model = model;
            Ingest = new HttpClient { BaseAddress = options.Ingest, Timeout = TimeSpan.FromSeconds(30) };
            Ingest.DefaultRequestHeaders.Add("X-Insights-Key", serverKey);
            if (options.Query is not null)
            {
                Query = new HttpClient { BaseAddress = options.Query, Timeout = TimeSpan.FromSeconds(10) };
                Query.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", readKey);
            }
        }

        public DemoModel Model { get; }

        public HttpClient Ingest { get; }

        public HttpClient? Query { get; }

        public void Start(Random random, DateTimeOffset at, ref int visits)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"l{at.ToUnixTimeMilliseconds():x}-{visits++}");
            // Live visitors come from companies more often than history's: the Live page is where agents look for them.
            var events = Model.Visit(random, at, key, companyShare: 0.4, live: true);
            pending.AddRange(events);
            leaving[key] = events.Max(e => e.At);
        }

        /// <summary>Takes the events due by <paramref name="now"/>, in time order.</summary>
        public EventBatch Due(DateTimeOffset now)
        {
            var batch = new EventBatch();
            foreach (var e in pending.Where(e => e.At <= now).OrderBy(e => e.At).ToList())
            {
                batch.Add(e.Json);
                pending.Remove(e);
            }

            return batch;
        }

        /// <summary>Visits started and not yet past their last event.</summary>
        public int OnSite(DateTimeOffset now)
        {
            foreach (var key in leaving.Where(l => l.Value < now).Select(l => l.Key).ToList())
            {
                leaving.Remove(key);
            }

            return leaving.Count;
        }

        public async Task<JsonDocument> GetAsync(string report, CancellationToken cancellation) =>
            JsonDocument.Parse(await Query!.GetStringAsync(new Uri($"/v1/sites/{Model.Site.Id}/{report}", UriKind.Relative), cancellation));

        public void Dispose()
        {
            Ingest.Dispose();
            Query?.Dispose();
        }
    }

    /// <summary>A JSON array of events, built as text.</summary>
    internal sealed class EventBatch
    {
        private readonly StringBuilder json = new("[");

        public int Count { get; private set; }

        public void Add(string @event)
        {
            json.Append(Count++ == 0 ? "" : ",").Append(@event);
        }

        public string ToJson() => json.ToString() + "]";
    }
}
