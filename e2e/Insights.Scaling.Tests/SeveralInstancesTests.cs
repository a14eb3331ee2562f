using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ClickHouse.Driver.ADO;
using Confluent.Kafka;
using Insights.ControlPlane.Tests.Support;
using Insights.DevStack.Testing;

namespace Insights.Scaling.Tests;

/// <summary>
/// Issue 13 §2 on one machine: two ingest, two processors and two query-API instances share one dev stack (Kafka and
/// ClickHouse) and one PostgreSQL control plane. Page views are sent under load through both ingest instances while a
/// processor is killed (SIGKILL, nothing committed) and every service is restarted one instance at a time (SIGTERM);
/// afterwards both query-API instances must report exactly the page views and visitors sent, and ClickHouse exactly one
/// session per visitor: nothing lost, nothing counted twice, no visit split by a partition moving.
/// </summary>
public sealed class SeveralInstancesTests(DevStackFixture stack, PostgresServer postgres, ITestOutputHelper log) : IAsyncDisposable
{
    private const string Site = "demo"; // seeded by the services' Development settings
    private const string WriteKey = "demo-write-key-0001";
    private const string ReadKey = "demo-read-key-0001";
    private const int BatchSize = 100;
    private const int Visitors = 240;

    // Generous: six services, the dev stack and this test share two cores with other work.
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan Stop = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Counted = TimeSpan.FromSeconds(240);

    private readonly string run = Guid.NewGuid().ToString("N")[..8];
    private readonly List<Instance> instances = [];
    private readonly Stopwatch clock = Stopwatch.StartNew();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Path => $"/scale/{run}";

    [Fact]
    public async Task Two_of_each_service_lose_and_double_nothing_through_a_killed_processor_and_rolling_restarts()
    {
        var database = $"scale_{run}";
        var events = $"scale.{run}.events";
        var enriched = $"scale.{run}.enriched";
        var deadLetters = $"scale.{run}.dlq";
        CreateTopics(events, enriched, deadLetters); // the dev broker's 4 partitions each: two per processor
        var uri = new Uri(stack.ClickHouseUrl);
        var common = new Dictionary<string, string>
        {
            ["Kafka__BootstrapServers"] = stack.KafkaBootstrap,
            ["ClickHouse__ConnectionString"] = $"Host={uri.Host};Port={uri.Port};Username=default;Password=",
            ["ClickHouse__Database"] = database,
            ["ControlPlane__Provider"] = "PostgreSql",
            ["ControlPlane__ConnectionString"] = await postgres.CreateDatabaseAsync(),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var processors = Settings(common, new()
        {
            ["Processors__Topic"] = events,
            ["Processors__EnrichedTopic"] = enriched,
            ["Processors__DeadLetterTopic"] = deadLetters,
            ["Processors__GroupId"] = $"scale-{run}",
            ["Processors__BatchMaxWaitMs"] = "100",
            ["Attribution__Topic"] = events,
            ["Attribution__DeadLetterTopic"] = deadLetters,
            ["Attribution__GroupId"] = $"scale-{run}-attribution",
            // A killed member's partitions move once the broker has not heard from it for this long.
            ["Kafka__SessionTimeoutMs"] = "6000",
            ["Kafka__HeartbeatIntervalMs"] = "1000",
        });
        var ingestSettings = Settings(common, new() { ["Kafka__EventsTopic"] = events });
        var querySettings = Settings(common, new() { ["Live__Topic"] = enriched });

        Instance[] processor = [New("processors-1", "Insights.Processors", processors), New("processors-2", "Insights.Processors", processors)];
        Instance[] ingest = [New("ingest-1", "Insights.Ingest", ingestSettings), New("ingest-2", "Insights.Ingest", ingestSettings)];
        Instance[] query = [New("query-api-1", "Insights.QueryApi", querySettings), New("query-api-2", "Insights.QueryApi", querySettings)];

        // Both processors at once: they race for the ClickHouse and control-plane migrations, as a fleet starting does.
        foreach (var instance in processor.Concat(ingest).Concat(query))
        {
            instance.Start();
        }

        await Task.WhenAll(processor.Concat(ingest).Concat(query).Select(i => i.WaitUntilReadyAsync(Ready)));
        Log("six instances ready");

        await using var load = new Load(ingest, Path, run, Visitors, log);

        // 1. Under load, a processor dies without committing anything; the other takes its partitions and
        //    everything sent so far is counted before a replacement starts.
        load.Start();
        await load.WaitForSentAsync(3_000);
        // Both members own partitions and write: the one killed next has work to hand over.
        await WaitForInsertsAsync(processor[0]);
        await WaitForInsertsAsync(processor[1]);
        await processor[0].StopAsync(StopSignal.Kill, Stop);
        Log($"processors-1 killed after {load.Sent} events");
        await load.WaitForSentAsync(6_000);
        var sentWithOneProcessor = load.Sent;
        await WaitForCountAsync(query[0], atLeast: sentWithOneProcessor, processor[1]);
        Log($"processors-2 alone counted {sentWithOneProcessor} events: the killed member's partitions moved");
        processor[0].Start();
        await processor[0].WaitUntilReadyAsync(Ready);

        // 2. A rolling restart of every service, one instance at a time, while the load goes on.
        foreach (var group in new[] { processor, ingest, query })
        {
            foreach (var instance in group)
            {
                var exit = await instance.StopAsync(StopSignal.Terminate, Stop);
                Assert.True(exit == 0, $"{instance.Name} exited {exit} on SIGTERM");
                var sentBefore = load.Sent;
                instance.Start();
                await instance.WaitUntilReadyAsync(Ready);
                Log($"{instance.Name} restarted ({load.Sent - sentBefore} events sent meanwhile)");
            }
        }

        await load.WaitForSentAsync(load.Sent + 1_000);
        var total = await load.StopAsync();
        Log($"load stopped: {total} events accepted in {load.Requests} requests, {load.Retries} retried after a refusal or error");

        // 3. Exact counts, from both query-API instances.
        await WaitForCountAsync(query[0], atLeast: total, processor[0], processor[1]);
        await Task.Delay(TimeSpan.FromSeconds(3), Ct); // a doubled batch would land within a batch interval or two
        foreach (var instance in query)
        {
            var (views, visitors) = await PageAsync(instance);
            Assert.Equal(total, views);
            Assert.Equal(Visitors, visitors);
        }

        Assert.Equal(0, ConsumerLag.Of(stack.KafkaBootstrap, $"scale-{run}", events));
        Assert.Equal((ulong)total, await ScalarAsync(database, $"SELECT uniqExact(event_id) FROM events WHERE path = '{Path}'"));
        // Every visitor's page views fall within minutes: one visit each, whichever processor folded which of them.
        Assert.Equal((ulong)Visitors, await ScalarAsync(database, "SELECT count() FROM sessions FINAL"));
        Assert.Equal((ulong)total, await ScalarAsync(database, "SELECT sum(page_views) FROM sessions FINAL"));
        Log($"exact: {total} page views, {Visitors} visitors, {Visitors} sessions");
    }

    private Instance New(string name, string project, Dictionary<string, string> settings)
    {
        var instance = new Instance(name, project, settings);
        instances.Add(instance);
        return instance;
    }

    private static Dictionary<string, string> Settings(Dictionary<string, string> common, Dictionary<string, string> own) =>
        common.Concat(own).ToDictionary();

    private async Task WaitForCountAsync(Instance query, long atLeast, params Instance[] processors)
    {
        var deadline = Stopwatch.StartNew();
        long views = 0;
        while (deadline.Elapsed < Counted)
        {
            try
            {
                (views, _) = await PageAsync(query);
                if (views >= atLeast)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not answering for a moment is not what this waits for.
            }

            await Task.Delay(500, Ct);
        }

        Assert.Fail($"{query.Name} counted {views} of {atLeast} page views after {Counted.TotalSeconds} s.\n" +
                    string.Join("\n", processors.Select(p => $"--- {p.Name}:\n{p.Output}")));
    }

    /// <summary>Until the processor's own metric says it wrote events to ClickHouse (it owns partitions that carry load).</summary>
    private static async Task WaitForInsertsAsync(Instance processor)
    {
        using var http = new HttpClient { BaseAddress = processor.Address, Timeout = TimeSpan.FromSeconds(30) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            // Prometheus text: name, optional {labels}, value, optional timestamp.
            const string metric = "insights_processors_events_inserted_total";
            var inserted = (await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct)).Split('\n')
                .Where(line => line.StartsWith(metric, StringComparison.Ordinal) && line.Length > metric.Length && line[metric.Length] is '{' or ' ')
                .Sum(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture));
            if (inserted > 0)
            {
                return;
            }

            Assert.True(deadline.Elapsed < Counted, $"{processor.Name} wrote nothing in {Counted.TotalSeconds} s: it owns no partition\n{processor.Output}");
            await Task.Delay(500, Ct);
        }
    }

    private async Task<(long Views, long Visitors)> PageAsync(Instance query)
    {
        using var http = new HttpClient { BaseAddress = query.Address, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadKey);
        var from = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var to = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var stats = await http.GetFromJsonAsync<JsonElement>(new Uri($"/v1/sites/{Site}/stats?from={from}&to={to}&limit=100", UriKind.Relative), Ct);
        var page = stats.GetProperty("topPages").EnumerateArray().FirstOrDefault(p => p.GetProperty("path").GetString() == Path);
        return page.ValueKind == JsonValueKind.Undefined ? (0, 0) : (page.GetProperty("views").GetInt64(), page.GetProperty("visitors").GetInt64());
    }

    private async Task<ulong> ScalarAsync(string database, string sql)
    {
        using var connection = new ClickHouseConnection(stack.ConnectionString(database));
        await connection.OpenAsync(Ct);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToUInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }

    /// <summary>The dev broker creates a topic on a metadata request for it; consumers need it to exist first.</summary>
    private void CreateTopics(params string[] topics)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = stack.KafkaBootstrap }).Build();
        foreach (var topic in topics)
        {
            admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        }
    }

    private void Log(string message) => log.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1} s] {message}");

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in instances)
        {
            await instance.DisposeAsync();
        }
    }

    /// <summary>
    /// Batches of page views sent one after another, alternating between the ingest instances. A batch refused or lost
    /// (an instance stopping or stopped) is sent again, same message ids, to the next instance until one accepts it —
    /// as a Segment-style client retries — so a batch whose first attempt did reach Kafka arrives twice and must still
    /// count once.
    /// </summary>
    private sealed class Load(Instance[] ingest, string path, string run, int visitors, ITestOutputHelper log) : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(15) };
        private Task? sending;
        private long sent;

        public long Sent => Interlocked.Read(ref sent);

        public int Requests { get; private set; }

        public int Retries { get; private set; }

        public void Start() => sending = Task.Run(SendAsync);

        public async Task WaitForSentAsync(long count)
        {
            var deadline = Stopwatch.StartNew();
            while (Sent < count)
            {
                if (sending is { IsCompleted: true })
                {
                    await sending; // its failure, if any
                }

                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(300), $"only {Sent} of {count} events accepted after 300 s");
                await Task.Delay(100);
            }
        }

        public async Task<long> StopAsync()
        {
            await stop.CancelAsync();
            await sending!;
            return Sent;
        }

        private async Task SendAsync()
        {
            var next = 0;
            for (var batch = 0; !stop.IsCancellationRequested; batch++)
            {
                var body = Batch(batch);
                for (var attempt = 0; ; attempt++)
                {
                    var target = ingest[next++ % ingest.Length];
                    Requests++;
                    if (await TrySendAsync(target, body))
                    {
                        break;
                    }

                    Retries++;
                    Assert.True(attempt < 600, $"batch {batch} refused {attempt} times");
                    await Task.Delay(100);
                }

                Interlocked.Add(ref sent, BatchSize);
                await Task.Delay(20); // steady load that leaves the two cores some room for the restarts
            }
        }

        private async Task<bool> TrySendAsync(Instance target, string body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(target.Address, "/v1/events"))
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Insights-Key", WriteKey);
            try
            {
                using var response = await http.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var accepted = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32();
                    Assert.Equal(BatchSize, accepted);
                    return true;
                }

                // 503 while an instance drains or Kafka has not acknowledged: a retry is the client's answer. Anything
                // else is a bug this test must show.
                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{target.Name} answered {(int)response.StatusCode}");
                return false;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                log.WriteLine($"{target.Name}: {e.GetType().Name} {e.Message}");
                return false;
            }
        }

        private string Batch(int batch) => "[" + string.Join(',', Enumerable.Range(0, BatchSize).Select(i =>
        {
            var n = (batch * BatchSize) + i;
            return JsonSerializer.Serialize(new
            {
                type = "pageview",
                messageId = $"{run}-{n}",
                anonymousId = $"{run}-visitor-{n % visitors}",
                context = new { page = new { url = $"https://shop.example{path}", path, title = "Scale" } },
            });
        })) + "]";

        public async ValueTask DisposeAsync()
        {
            if (sending is { IsCompleted: false })
            {
                await stop.CancelAsync();
                try
                {
                    await sending;
                }
                catch (Exception)
                {
                    // The test has already failed for its own reason.
                }
            }

            stop.Dispose();
            http.Dispose();
        }
    }
}
