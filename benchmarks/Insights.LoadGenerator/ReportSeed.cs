using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Insights.LoadGenerator;

/// <summary>
/// Thirty days of history for one site written straight into ClickHouse with INSERT … SELECT FROM numbers(): 10 M
/// page views and custom events in 1 M visits (10 events each) by 800 k visitors, their <c>sessions</c> rows (a seventh
/// from a company's network, five countries, four channels), 100 k chats, 40 k orders with their credits under six
/// models, goal completions and identities — the shape of <c>benchmarks/Insights.Benchmarks/ReportLatencyBenchmarks.cs</c>
/// plus what the stats and company reports read. Writing through ingest would take the processors ~10 minutes; this
/// takes ~1. The history ends at today's UTC midnight, so live load lands on a day of its own.
/// </summary>
internal static class ReportSeed
{
    public const long Events = 10_000_000;

    private static readonly string[] Statements =
    [
        """
        INSERT INTO events (event_id, site_id, type, name, timestamp, received_at, anonymous_id, url, path, referrer, referrer_host, session_id,
                            country, city, browser, os, device_type, network_kind, company_id, company_name, company_domain)
        SELECT concat('seed-e', toString(number)), {site:String}, if(number % 20 = 0, 'track', 'pageview'), if(number % 20 = 0, 'signup', ''),
               {start:DateTime64(3, 'UTC')} + toIntervalMillisecond(number * 259) AS at, at,
               concat('seed-v', toString(intDiv(number, 10) % 800000)) AS visitor,
               concat('https://shop.example', path), multiIf(number % 50 = 1, '/thank-you', concat('/p/', toString(number % 500))) AS path,
               if(number % 10 = 0 AND intDiv(number, 10) % 4 != 3, concat('https://', host, '/'), '') AS referrer,
               if(number % 10 = 0, ['www.google.com', 'news.ycombinator.com', 't.co', ''][intDiv(number, 10) % 4 + 1], '') AS host,
               concat('seed-s', toString(intDiv(number, 10))),
               ['DE', 'US', 'FR', 'GB', 'NL'][intDiv(number, 10) % 5 + 1], ['Berlin', 'Boston', 'Paris', 'London', 'Utrecht'][intDiv(number, 10) % 5 + 1],
               ['Chrome', 'Firefox', 'Safari'][intDiv(number, 10) % 3 + 1], ['Windows', 'macOS', 'Android', 'iOS'][intDiv(number, 10) % 4 + 1],
               ['desktop', 'mobile'][intDiv(number, 10) % 2 + 1],
               if(intDiv(number, 10) % 7 = 0, 'business', 'isp'),
               if(intDiv(number, 10) % 7 = 0, concat('acme-', toString(intDiv(number, 10) % 500), '-', leftPad(lower(hex(toUInt32(intDiv(number, 10) % 500))), 8, '0')), ''),
               if(intDiv(number, 10) % 7 = 0, concat('Acme ', toString(intDiv(number, 10) % 500)), ''),
               if(intDiv(number, 10) % 7 = 0, concat('acme', toString(intDiv(number, 10) % 500), '.example'), '')
        FROM numbers({events:UInt64})
        """,
        """
        INSERT INTO sessions (session_id, site_id, anonymous_id, opened_at, started_at, ended_at, entry_at, exit_at, duration, engaged_ms,
                              page_views, events, interactions, bounce, entry_page, exit_page, pages, landing_referrer, referrer_host, channel,
                              country, city, browser, os, device_type, network_kind, company_id, company_name, company_domain,
                              kafka_partition, last_offset, last_received_at, version)
        SELECT concat('seed-s', toString(number)), {site:String}, concat('seed-v', toString(number % 800000)),
               {start:DateTime64(3, 'UTC')} + toIntervalMillisecond(number * 2590) AS at, at, at + toIntervalMillisecond(9 * 259), at,
               at + toIntervalMillisecond(9 * 259), 2, 2000, 9, 10, 1, number % 10 = 3,
               p[1], p[10], arrayDistinct(p),
               if(number % 4 != 3, concat('https://', host, '/'), ''), host,
               ['search', 'referral', 'social', 'direct'][number % 4 + 1],
               ['DE', 'US', 'FR', 'GB', 'NL'][number % 5 + 1], ['Berlin', 'Boston', 'Paris', 'London', 'Utrecht'][number % 5 + 1],
               ['Chrome', 'Firefox', 'Safari'][number % 3 + 1], ['Windows', 'macOS', 'Android', 'iOS'][number % 4 + 1],
               ['desktop', 'mobile'][number % 2 + 1],
               if(number % 7 = 0, 'business', 'isp'),
               if(number % 7 = 0, concat('acme-', toString(number % 500), '-', leftPad(lower(hex(toUInt32(number % 500))), 8, '0')), ''),
               if(number % 7 = 0, concat('Acme ', toString(number % 500)), ''),
               if(number % 7 = 0, concat('acme', toString(number % 500), '.example'), ''),
               0, 0, at, 10
        FROM
        (
            SELECT number, ['www.google.com', 'news.ycombinator.com', 't.co', ''][number % 4 + 1] AS host,
                   arrayMap(k -> multiIf((number * 10 + k) % 50 = 1, '/thank-you', concat('/p/', toString((number * 10 + k) % 500))), range(10)) AS p
            FROM numbers(intDiv({events:UInt64}, 10))
        )
        """,
        """
        INSERT INTO chats (site_id, chat_id, person_id, anonymous_id, agent_id, channel, source, started_at, ended_at, last_event_at, messages, events, version)
        SELECT {site:String}, concat('seed-c', toString(number)), concat('a:seed-v', toString(cityHash64(number * 7) % 800000)),
               concat('seed-v', toString(cityHash64(number * 7) % 800000)), concat('agent-', toString(number % 20)),
               ['website', 'whatsapp', 'messenger', 'email'][number % 4 + 1], 'livechat',
               {start:DateTime64(3, 'UTC')} + toIntervalMillisecond(number * 25900) AS at, at + toIntervalMinute(12), at + toIntervalMinute(12),
               8, 10, 10
        FROM numbers(intDiv({events:UInt64}, 100))
        """,
        """
        INSERT INTO orders (site_id, order_id, person_id, anonymous_id, placed_at, currency, amount, refunded, cancelled, net, reporting_currency,
                            amount_reporting, net_reporting, source, chats_in_window, events, version)
        SELECT {site:String}, concat('seed-o', toString(number)), concat('a:seed-v', toString(cityHash64(number * 2 * 7) % 800000)),
               concat('seed-v', toString(cityHash64(number * 2 * 7) % 800000)),
               {start:DateTime64(3, 'UTC')} + toIntervalMillisecond(number * 2 * 25900) + toIntervalMinute(30),
               if(number % 4 = 0, 'EUR', 'USD'), toDecimal64(20 + number % 300, 4), toDecimal64(if(number % 10 = 0, 5, 0), 4), number % 50 = 0,
               toDecimal64(if(number % 50 = 0, 0, 20 + number % 300 - if(number % 10 = 0, 5, 0)), 4), 'USD',
               toDecimal64((20 + number % 300) * if(number % 4 = 0, 1.1, 1), 4),
               toDecimal64(if(number % 50 = 0, 0, 20 + number % 300 - if(number % 10 = 0, 5, 0)) * if(number % 4 = 0, 1.1, 1), 4),
               'shopify', number % 3, 2, 20
        FROM numbers(intDiv({events:UInt64}, 250))
        """,
        """
        INSERT INTO attribution_credits (site_id, order_id, model, chat_id, share, amount, currency, amount_reporting, reporting_currency,
                                         order_placed_at, chat_started_at, agent_id, channel, person_id, confidence, version)
        SELECT site_id, order_id, model, concat('seed-c', toString(toUInt64(substring(order_id, 7)) * 2 - k)),
               if(model IN ('linear', 'time_decay'), 1 / chats_in_window, if(k = 0 OR model = 'chat_assisted', 1, 0)),
               if(model IN ('linear', 'time_decay'), net / chats_in_window, if(k = 0 OR model = 'chat_assisted', net, 0)), currency,
               if(model IN ('linear', 'time_decay'), net_reporting / chats_in_window, if(k = 0 OR model = 'chat_assisted', net_reporting, 0)), 'USD',
               placed_at, placed_at - toIntervalHour(k), concat('agent-', toString((toUInt64(substring(order_id, 7)) * 2 - k) % 20)),
               ['website', 'whatsapp', 'messenger', 'email'][(toUInt64(substring(order_id, 7)) * 2 - k) % 4 + 1], person_id, 'high', 20
        FROM orders
        ARRAY JOIN ['last_chat', 'first_chat', 'linear', 'time_decay', 'chat_assisted', 'during_chat'] AS model
        ARRAY JOIN range(chats_in_window) AS k
        WHERE site_id = {site:String} AND startsWith(order_id, 'seed-o') AND chats_in_window > 0
        """,
        """
        INSERT INTO goal_completions (site_id, goal_id, key, timestamp, node, anonymous_id, value, version)
        SELECT {site:String}, if(type = 'track', 'signup', 'thanks'), event_id, timestamp, concat('a:', anonymous_id), anonymous_id, 5, 1
        FROM events
        WHERE site_id = {site:String} AND startsWith(event_id, 'seed-e') AND (path = '/thank-you' OR (name = 'signup' AND cityHash64(event_id) % 10 = 0))
        """,
        """
        INSERT INTO goal_completions (site_id, goal_id, key, timestamp, node, anonymous_id, value, version)
        SELECT {site:String}, 'buy', concat('o:', order_id), placed_at, concat('o:', order_id), anonymous_id, amount_reporting, 20
        FROM orders WHERE site_id = {site:String} AND startsWith(order_id, 'seed-o')
        """,
        """
        INSERT INTO identities (site_id, id, person_id, strong_person_id, members, version)
        SELECT {site:String}, concat('a:seed-v', toString(number)), concat('a:seed-v', toString(number - number % 2)),
               concat('a:seed-v', toString(number - number % 2)), 2, 2
        FROM numbers(intDiv({events:UInt64}, 50))
        UNION ALL
        SELECT {site:String}, concat('o:', order_id), person_id, person_id, 2, 20 FROM orders WHERE site_id = {site:String} AND startsWith(order_id, 'seed-o')
        """,
    ];

    /// <summary>Seeds the site unless it already holds the seeded events; returns the first day of the history.</summary>
    public static async Task<DateTimeOffset> EnsureAsync(HttpClient clickHouse, string database, string site, long events, CancellationToken cancellationToken)
    {
        var start = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-30);
        var parameters = new Dictionary<string, string>
        {
            ["database"] = database,
            ["site"] = site,
            ["start"] = start.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            ["events"] = events.ToString(CultureInfo.InvariantCulture),
        };
        var stored = await QueryAsync(clickHouse, "SELECT count() FROM events WHERE site_id = {site:String} AND startsWith(event_id, 'seed-e')",
            parameters, cancellationToken);
        if (long.Parse(stored.Trim(), CultureInfo.InvariantCulture) >= events)
        {
            Console.WriteLine($"seed: {site} already holds {events:N0} seeded events");
            return start;
        }

        foreach (var statement in Statements)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await QueryAsync(clickHouse, statement, parameters, cancellationToken);
            Console.WriteLine($"seed: {statement.TrimStart()[..statement.TrimStart().IndexOf('(', StringComparison.Ordinal)].Trim()} in {watch.Elapsed.TotalSeconds:F1} s");
        }

        // Merged, as months of history would be; live load then adds small parts on top, as in production.
        foreach (var table in new[] { "events", "visitor_quarters", "sessions", "goal_completions", "identities", "chats", "orders", "attribution_credits" })
        {
            await QueryAsync(clickHouse, $"OPTIMIZE TABLE {table} FINAL", parameters, cancellationToken);
        }

        return start;
    }

    /// <summary>One statement over ClickHouse's HTTP interface, values bound as <c>param_*</c> (never spliced).</summary>
    public static async Task<string> QueryAsync(HttpClient clickHouse, string sql, IReadOnlyDictionary<string, string> parameters,
        CancellationToken cancellationToken)
    {
        var query = string.Join('&', parameters.Where(p => p.Key != "database").Select(p => $"param_{p.Key}={Uri.EscapeDataString(p.Value)}")
            .Prepend($"database={Uri.EscapeDataString(parameters["database"])}"));
        using var content = new StringContent(sql, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        using var response = await clickHouse.PostAsync(new Uri("/?" + query, UriKind.Relative), content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode ? body : throw new HttpRequestException($"ClickHouse answered {(int)response.StatusCode}: {body}");
    }
}
