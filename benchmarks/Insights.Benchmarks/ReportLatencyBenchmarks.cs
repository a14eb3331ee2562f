using BenchmarkDotNet.Attributes;
using ClickHouse.Driver;
using Insights.Contracts;
using Insights.QueryApi;
using Insights.QueryApi.Goals;
using Insights.QueryApi.Sales;
using Insights.QueryApi.Stats;
using Insights.QueryApi.Storage;
using Insights.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using System.Diagnostics.Metrics;

namespace Insights.Benchmarks;

/// <summary>
/// Latency of the sales and goals reports over a month of 10,000,000 events, as the query API runs them (its stores and
/// its ClickHouse client, minus HTTP), against a running dev stack: set <c>INSIGHTS_CLICKHOUSE_URL</c> or use
/// <c>benchmarks/Insights.Benchmarks/report-latency.sh</c>, which starts one. The first run migrates database
/// <c>bench_reports</c> and generates the data with INSERT … SELECT FROM numbers(): 10 M events in 1 M visits (10 page views
/// each) by 800 k visitors over 30 days, 100 k chats, 40 k orders (a third without a chat), their credits under six models, 240 k goal completions and
/// 200 k identities.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class ReportLatencyBenchmarks
{
    private const string Database = "bench_reports";

    private static readonly string[] Seed =
    [
        """
        INSERT INTO events (event_id, site_id, type, name, timestamp, received_at, anonymous_id, url, path)
        SELECT concat('e', toString(number)), 'bench', if(number % 20 = 0, 'track', 'pageview'), if(number % 20 = 0, 'signup', ''),
               toDateTime64('2026-10-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * 259) AS at, at,
               concat('v', toString(intDiv(number, 10) % 800000)),
               concat('https://shop.example', multiIf(number % 50 = 1, '/thank-you', concat('/p/', toString(number % 500)))),
               multiIf(number % 50 = 1, '/thank-you', concat('/p/', toString(number % 500)))
        FROM numbers(10000000)
        """,
        """
        INSERT INTO chats (site_id, chat_id, person_id, anonymous_id, agent_id, channel, source, started_at, ended_at, last_event_at, messages, events, version)
        SELECT 'bench', concat('c', toString(number)), concat('a:v', toString(cityHash64(number * 7) % 1000000)),
               concat('v', toString(cityHash64(number * 7) % 1000000)), concat('agent-', toString(number % 20)),
               ['website', 'whatsapp', 'messenger', 'email'][number % 4 + 1], 'livechat',
               toDateTime64('2026-10-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * 25900) AS at, at + toIntervalMinute(12), at + toIntervalMinute(12),
               8, 10, 10
        FROM numbers(100000)
        """,
        """
        INSERT INTO orders (site_id, order_id, person_id, anonymous_id, placed_at, currency, amount, refunded, cancelled, net, reporting_currency,
                            amount_reporting, net_reporting, source, chats_in_window, events, version)
        SELECT 'bench', concat('o', toString(number)), concat('a:v', toString(cityHash64(number * 2 * 7) % 1000000)),
               concat('v', toString(cityHash64(number * 2 * 7) % 1000000)),
               toDateTime64('2026-10-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * 2 * 25900) + toIntervalMinute(30),
               if(number % 4 = 0, 'EUR', 'USD'), toDecimal64(20 + number % 300, 4), toDecimal64(if(number % 10 = 0, 5, 0), 4), number % 50 = 0,
               toDecimal64(if(number % 50 = 0, 0, 20 + number % 300 - if(number % 10 = 0, 5, 0)), 4), 'USD',
               toDecimal64((20 + number % 300) * if(number % 4 = 0, 1.1, 1), 4),
               toDecimal64(if(number % 50 = 0, 0, 20 + number % 300 - if(number % 10 = 0, 5, 0)) * if(number % 4 = 0, 1.1, 1), 4),
               'shopify', number % 3, 2, 20
        FROM numbers(40000)
        """,
        """
        INSERT INTO attribution_credits (site_id, order_id, model, chat_id, share, amount, currency, amount_reporting, reporting_currency,
                                         order_placed_at, chat_started_at, agent_id, channel, person_id, confidence, version)
        SELECT site_id, order_id, model, concat('c', toString(toUInt64(substring(order_id, 2)) * 2 - k)),
               if(model IN ('linear', 'time_decay'), 1 / chats_in_window, if(k = 0 OR model = 'chat_assisted', 1, 0)),
               if(model IN ('linear', 'time_decay'), net / chats_in_window, if(k = 0 OR model = 'chat_assisted', net, 0)), currency,
               if(model IN ('linear', 'time_decay'), net_reporting / chats_in_window, if(k = 0 OR model = 'chat_assisted', net_reporting, 0)), 'USD',
               placed_at, placed_at - toIntervalHour(k), concat('agent-', toString((toUInt64(substring(order_id, 2)) * 2 - k) % 20)),
               ['website', 'whatsapp', 'messenger', 'email'][(toUInt64(substring(order_id, 2)) * 2 - k) % 4 + 1], person_id, 'high', 20
        FROM orders
        ARRAY JOIN ['last_chat', 'first_chat', 'linear', 'time_decay', 'chat_assisted', 'during_chat'] AS model
        ARRAY JOIN range(chats_in_window) AS k
        WHERE site_id = 'bench' AND chats_in_window > 0
        """,
        """
        INSERT INTO goal_completions (site_id, goal_id, key, timestamp, node, anonymous_id, value, version)
        SELECT 'bench', if(type = 'track', 'signup', 'thanks'), event_id, timestamp, concat('a:', anonymous_id), anonymous_id, 5, 1
        FROM events
        WHERE site_id = 'bench' AND (path = '/thank-you' OR (name = 'signup' AND cityHash64(event_id) % 10 = 0))
        """,
        """
        INSERT INTO goal_completions (site_id, goal_id, key, timestamp, node, anonymous_id, value, version)
        SELECT 'bench', 'buy', concat('o:', order_id), placed_at, concat('o:', order_id), anonymous_id, amount_reporting, 20
        FROM orders WHERE site_id = 'bench'
        """,
        """
        INSERT INTO identities (site_id, id, person_id, strong_person_id, members, version)
        SELECT 'bench', concat('a:v', toString(number)), concat('a:v', toString(number - number % 2)), concat('a:v', toString(number - number % 2)), 2, 2
        FROM numbers(200000)
        UNION ALL
        SELECT 'bench', concat('o:', order_id), person_id, person_id, 2, 20 FROM orders WHERE site_id = 'bench'
        """,
    ];

    private ClickHouseClient client = null!;
    private SalesStore sales = null!;
    private GoalsStore goals = null!;
    private SiteOptions site = null!;
    private StatsRange range = null!;

    [GlobalSetup]
    public void Setup()
    {
        var url = Environment.GetEnvironmentVariable("INSIGHTS_CLICKHOUSE_URL")
            ?? throw new InvalidOperationException("Set INSIGHTS_CLICKHOUSE_URL to a running dev stack (report-latency.sh does).");
        var uri = new Uri(url);
        var storage = new ClickHouseStorageOptions { ConnectionString = $"Host={uri.Host};Port={uri.Port};Username=default;Password=", Database = Database };
        new SchemaMigrator(storage, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
        client = new ClickHouseClient(storage.ConnectionString + ";Database=" + Database);
        if (Convert.ToUInt64(client.ExecuteScalarAsync("SELECT count() FROM events WHERE site_id = 'bench'").GetAwaiter().GetResult(), System.Globalization.CultureInfo.InvariantCulture) < 10_000_000)
        {
            foreach (var statement in Seed)
            {
                client.ExecuteNonQueryAsync(statement).GetAwaiter().GetResult();
            }

            client.ExecuteNonQueryAsync("OPTIMIZE TABLE events FINAL").GetAwaiter().GetResult();
        }

        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var queryOptions = new QueryApiOptions();
        var database = new ReportsDatabase(client, Options.Create(storage), Options.Create(queryOptions), new QueryApiMetrics(meters));
        sales = new SalesStore(database);
        goals = new GoalsStore(database);
        site = new SiteOptions
        {
            Id = "bench",
            Goals = [new SiteGoal { Id = "thanks", Kind = "page", UrlPattern = "/thank-you" }, new SiteGoal { Id = "signup", Kind = "event", EventName = "signup" },
                new SiteGoal { Id = "buy", Kind = "order_placed" }],
        };
        if (!StatsRange.TryCreate("2026-10-01", "2026-10-31", null, null, TimeZoneInfo.Utc, DateTimeOffset.UtcNow, queryOptions, out range, out var errors))
        {
            throw new InvalidOperationException(string.Join(", ", errors.Keys));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => client.Dispose();

    [Benchmark(Description = "GET sales (last_chat), 30 days, 10 M events")]
    public async Task<decimal> Sales() => (await sales.GetAsync(site, range, "last_chat", CancellationToken.None)).Revenue;

    [Benchmark(Description = "GET sales (chat_assisted), 30 days, 10 M events")]
    public async Task<decimal> SalesAssisted() => (await sales.GetAsync(site, range, "chat_assisted", CancellationToken.None)).ChatAttributedRevenue;

    [Benchmark(Description = "GET goals, 30 days, 10 M events")]
    public async Task<long> Goals() => (await goals.GetAsync(site, range, CancellationToken.None)).Goals.Sum(g => g.Completions);
}
