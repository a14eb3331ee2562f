using System.Text;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.DevStack.Testing;
using static Insights.Processors.Tests.VisitTraffic;

namespace Insights.Processors.Tests;

/// <summary>
/// Enrichment and sessions end to end: events produced to Kafka, consumed by the processor (with the real IP data),
/// read back from ClickHouse as a report would read them.
/// </summary>
public sealed class SessionPipelineTests(DevStackFixture stack)
{
    private static readonly DateTimeOffset Day = new(2026, 11, 18, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Business_networks_become_companies_consumer_networks_never_do_and_bots_are_kept_but_not_visitors()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "networks");
        var at = Day.AddHours(9);
        await pipeline.ProduceAsync(
        [
            View("office", "/", at, AlbertaHealth), View("office", "/pricing", at.AddMinutes(2), AlbertaHealth),
            View("home", "/", at, Comcast),
            View("phone", "/", at, TMobile, userAgent: SafariIphone),
            View("cloud", "/", at, Amazon),
            View("crawler", "/", at, AlbertaHealth, userAgent: Googlebot),
            View("headless", "/", at, Comcast, userAgent: HeadlessChrome),
        ]);

        await using var processor = new InProcessProcessor(pipeline.Settings());
        using var http = await processor.StartAsync();
        await pipeline.WaitForAsync(events: 7, sessions: 3, () => processor.Logs);

        var events = (await pipeline.RowsAsync(
                "SELECT anonymous_id, bot_reason, network_kind, company_name, company_id, country, device_type, browser, session_id " +
                "FROM events FINAL ORDER BY timestamp LIMIT 1 BY anonymous_id"))
            .ToDictionary(r => $"{r["anonymous_id"]}", r => r, StringComparer.Ordinal);
        Assert.Equal(("", "business", "Alberta Health Services", "CA", "desktop", "Chrome"),
            ($"{events["office"]["bot_reason"]}", $"{events["office"]["network_kind"]}", $"{events["office"]["company_name"]}",
             $"{events["office"]["country"]}", $"{events["office"]["device_type"]}", $"{events["office"]["browser"]}"));
        Assert.StartsWith("alberta-health-services-", $"{events["office"]["company_id"]}", StringComparison.Ordinal);
        Assert.Equal(("consumer_isp", ""), ($"{events["home"]["network_kind"]}", $"{events["home"]["company_name"]}"));
        Assert.Equal(("mobile", "", "mobile"), ($"{events["phone"]["network_kind"]}", $"{events["phone"]["company_name"]}", $"{events["phone"]["device_type"]}"));
        Assert.Equal(("datacenter", ""), ($"{events["cloud"]["bot_reason"]}", $"{events["cloud"]["session_id"]}"));
        Assert.Equal(("crawler", "", ""), ($"{events["crawler"]["bot_reason"]}", $"{events["crawler"]["company_name"]}", $"{events["crawler"]["session_id"]}"));
        Assert.Equal("headless_browser", $"{events["headless"]["bot_reason"]}");

        // A report counts people: the three visitors, not the bots; only the business is a company anywhere.
        Assert.Equal(3UL, await pipeline.ScalarAsync("SELECT uniqExact(anonymous_id) FROM events FINAL WHERE bot_reason = ''"));
        Assert.Equal(["phone", "office", "home"], (await pipeline.RowsAsync("SELECT anonymous_id FROM sessions FINAL ORDER BY anonymous_id DESC"))
            .Select(r => $"{r["anonymous_id"]}"));
        Assert.Equal(1UL, await pipeline.ScalarAsync("SELECT uniqExact(company_name) FROM events FINAL WHERE company_name != ''"));
        Assert.Equal(1UL, await pipeline.ScalarAsync("SELECT count() FROM sessions FINAL WHERE company_id != ''"));
        Assert.Equal(0UL, await pipeline.ScalarAsync(
            "SELECT count() FROM sessions FINAL WHERE company_id != '' AND network_kind != 'business'"));

        // The operator sees them as a metric by reason (the enrichment's meter, exported with the processor's).
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        foreach (var reason in new[] { "crawler", "headless_browser", "datacenter" })
        {
            Assert.Contains($"insights_enrichment_events_dropped_total{{otel_scope_name=\"Insights.Enrichment\",reason=\"{reason}\"}}", metrics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Sessions_split_after_30_minutes_with_entry_exit_bounce_duration_and_channel()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "split");
        var at = Day.AddHours(14);
        var late = Day.AddHours(23).AddMinutes(50);
        await pipeline.ProduceAsync(
        [
            View("reader", "/", at, Comcast, referrer: "https://www.google.com/"),
            View("reader", "/pricing", at.AddMinutes(5), Comcast),
            View("reader", "/?utm_source=newsletter&utm_medium=email", at.AddMinutes(50), Comcast, referrer: "https://mail.google.com/"),
            Engagement("reader", at.AddMinutes(50).AddSeconds(40), Comcast, 40_000),
            View("owl", "/blog", late, Comcast, referrer: "https://news.ycombinator.com/item?id=1"),
            View("owl", "/pricing", late.AddMinutes(20), Comcast),
        ]);

        await using var processor = new InProcessProcessor(pipeline.Settings());
        await processor.StartAsync();
        await pipeline.WaitForAsync(events: 6, sessions: 3, () => processor.Logs);

        var sessions = await pipeline.RowsAsync("""
            SELECT anonymous_id, entry_page, exit_page, page_views, bounce, duration, channel, referrer_host, utm_medium, engaged_ms
            FROM sessions FINAL ORDER BY anonymous_id DESC, started_at
            """);
        string Describe(Dictionary<string, object> s) =>
            $"{s["entry_page"]} → {s["exit_page"]}, {s["page_views"]} views, bounce {s["bounce"]}, {s["duration"]} s, {s["channel"]} " +
            $"from '{s["referrer_host"]}' ({s["utm_medium"]}), engaged {s["engaged_ms"]} ms";
        Assert.Equal(
        [
            "/ → /pricing, 2 views, bounce False, 300 s, search from 'google.com' (), engaged 0 ms",
            "/ → /, 1 views, bounce True, 40 s, email from 'mail.google.com' (email), engaged 40000 ms",
            "/blog → /pricing, 2 views, bounce False, 1200 s, social from 'news.ycombinator.com' (), engaged 0 ms",
        ], sessions.Select(Describe));

        // Every event carries its session; the visit across midnight is one session.
        Assert.Equal(0UL, await pipeline.ScalarAsync("SELECT countIf(session_id = '') FROM events FINAL"));
        Assert.Equal([2UL, 2UL, 2UL], (await pipeline.RowsAsync("SELECT count() AS n FROM events FINAL GROUP BY session_id"))
            .Select(r => Convert.ToUInt64(r["n"], System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task A_processor_restarted_mid_session_continues_the_same_session()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "restart");
        var at = Day.AddHours(10);
        await pipeline.ProduceAsync([View("buyer", "/", at, AlbertaHealth), View("buyer", "/pricing", at.AddMinutes(3), AlbertaHealth)]);
        await using (var first = new InProcessProcessor(pipeline.Settings()))
        {
            await first.StartAsync();
            await pipeline.WaitForAsync(events: 2, sessions: 1, () => first.Logs);
        }

        await pipeline.ProduceAsync([View("buyer", "/contact", at.AddMinutes(20), AlbertaHealth)]);
        await using var second = new InProcessProcessor(pipeline.Settings());
        await second.StartAsync();
        await Eventually.EqualAsync(3UL, pipeline.CountFinalAsync, "events stored", context: () => second.Logs);
        await Eventually.EqualAsync(3UL, () => pipeline.ScalarAsync("SELECT sum(page_views) FROM sessions FINAL"), "the session grew", context: () => second.Logs);

        var session = Assert.Single(await pipeline.RowsAsync("SELECT session_id, entry_page, exit_page, duration FROM sessions FINAL"));
        Assert.Equal(("/", "/contact", 1200u), ($"{session["entry_page"]}", $"{session["exit_page"]}", (uint)session["duration"]));
        Assert.Equal(1UL, await pipeline.ScalarAsync("SELECT uniqExact(session_id) FROM events FINAL"));
        Assert.True(second.Counter("insights.processors.sessions.lookups") >= 1, "the second processor read the open session back");
    }

    [Theory]
    [InlineData("ExitAfterInsert")]
    [InlineData("ExitAfterSessionsInsert")]
    public async Task A_batch_replayed_after_a_crash_adds_no_sessions_and_no_counts(string fault)
    {
        var pipeline = await Pipeline.CreateAsync(stack, "replay");
        var at = Day.AddHours(11);
        var events = Enumerable.Range(0, 40)
            .SelectMany(v => Enumerable.Range(0, 3).Select(i => View($"visitor-{v}", $"/page-{i}", at.AddMinutes(v + i), v % 2 == 0 ? AlbertaHealth : Comcast)))
            .ToList();
        await pipeline.ProduceAsync(events);

        // The crash comes after the first batch's write and before its offsets are stored: all of it is read again.
        var settings = pipeline.Settings(batchMaxEvents: 50);
        settings[$"Processors:Fault:{fault}"] = "true";
        await using (var crashing = ProcessorProcess.Start(settings))
        {
            Assert.NotEqual(0, await crashing.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        }

        await using var processor = new InProcessProcessor(pipeline.Settings(batchMaxEvents: 50));
        await processor.StartAsync();
        await pipeline.WaitForAsync(events: events.Count, sessions: 40, () => processor.Logs);
        await Eventually.EqualAsync(120UL, () => pipeline.ScalarAsync("SELECT sum(page_views) FROM sessions FINAL"), "page views in sessions");

        Assert.Equal(0UL, await pipeline.ScalarAsync(
            "SELECT count() FROM (SELECT anonymous_id FROM events FINAL GROUP BY anonymous_id HAVING uniqExact(session_id) != 1)"));
        Assert.Equal(40UL, await pipeline.ScalarAsync("SELECT uniqExact(session_id) FROM events FINAL"));
        Assert.Equal(0UL, await pipeline.ScalarAsync("SELECT count() FROM sessions FINAL WHERE page_views != 3 OR events != 3"));
        Assert.Equal(20UL, await pipeline.ScalarAsync("SELECT count() FROM sessions FINAL WHERE company_name = 'Alberta Health Services'"));
        if (fault == "ExitAfterSessionsInsert")
        {
            Assert.True(processor.Counter("insights.processors.events.replayed") > 0, "the replayed batch was recognised");
        }
    }

    [Fact]
    public async Task With_privacy_mode_none_no_ip_reaches_clickhouse_and_the_company_is_still_resolved()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "privacy");
        await pipeline.ProduceAsync([View("p1", "/", Day.AddHours(8), AlbertaHealth), View("p2", "/", Day.AddHours(8), "2601:600::1")]);

        var settings = pipeline.Settings();
        settings["Enrichment:SiteIpStorage:demo"] = "None";
        await using var processor = new InProcessProcessor(settings);
        await processor.StartAsync();
        await pipeline.WaitForAsync(events: 2, sessions: 2, () => processor.Logs);

        Assert.Equal(0UL, await pipeline.ScalarAsync("SELECT countIf(ip IS NOT NULL) FROM events"));
        Assert.Equal(0UL, await pipeline.ScalarAsync("SELECT countIf(position(properties, '139.48') > 0 OR position(url, '139.48') > 0) FROM events"));
        Assert.Equal(1UL, await pipeline.ScalarAsync("SELECT countIf(company_name = 'Alberta Health Services' AND country = 'CA') FROM events FINAL"));
    }

    [Fact]
    public async Task An_operators_replay_after_a_company_range_was_added_rewrites_rows_and_sessions_with_it_but_counts_nothing_twice()
    {
        // What insights-admin events replay produces: the same messages again (key, value, headers) plus the replay
        // header, at new offsets, read by a processor that no longer holds the visitors in memory.
        var pipeline = await Pipeline.CreateAsync(stack, "operator-replay");
        var at = Day.AddHours(13);
        var events = Enumerable.Range(0, 6)
            .SelectMany(v => Enumerable.Range(0, 3).Select(i => View($"replayed-{v}", $"/page-{i}", at.AddMinutes(v + (i * 5)), v % 2 == 0 ? AlbertaHealth : Comcast)))
            .ToList();
        await pipeline.ProduceAsync(events);
        Dictionary<string, string> sessionOf;
        await using (var first = new InProcessProcessor(pipeline.Settings()))
        {
            await first.StartAsync();
            await pipeline.WaitForAsync(events: events.Count, sessions: 6, () => first.Logs);
            sessionOf = (await pipeline.RowsAsync("SELECT event_id, session_id FROM events FINAL"))
                .ToDictionary(r => $"{r["event_id"]}", r => $"{r["session_id"]}", StringComparer.Ordinal);
        }

        var originals = pipeline.ReadAll(pipeline.Topic, events.Count, Eventually.Timeout);
        using (var producer = pipeline.Producer())
        {
            foreach (var original in originals)
            {
                var headers = new Headers();
                foreach (var header in original.Message.Headers)
                {
                    headers.Add(header.Key, header.GetValueBytes());
                }

                headers.Add(EventCodec.ReplayHeader, Encoding.ASCII.GetBytes($"{original.Partition.Value}:{original.Offset.Value}"));
                await producer.ProduceAsync(pipeline.Topic, new Message<byte[]?, byte[]?> { Key = original.Message.Key, Value = original.Message.Value, Headers = headers },
                    TestContext.Current.CancellationToken);
            }
        }

        // The fix being replayed for: the operator names the company behind the consumer network's address.
        var fixedSettings = pipeline.Settings();
        fixedSettings["Enrichment:CompanyRanges:0:Cidr"] = "73.162.10.0/24";
        fixedSettings["Enrichment:CompanyRanges:0:Company"] = "Replay Corp";
        fixedSettings["Enrichment:CompanyRanges:0:Domain"] = "replay.example";
        await using var second = new InProcessProcessor(fixedSettings);
        await second.StartAsync();
        // Every event written a second time (a new row each, replacing the first under FINAL) ...
        await Eventually.EqualAsync((ulong)(2 * events.Count), pipeline.CountRowsAsync, "the replayed rows written", context: () => second.Logs);
        Assert.Equal((ulong)events.Count, await pipeline.CountFinalAsync());
        Assert.Empty(await pipeline.DuplicatedEventIdsAsync());
        // ... with the session it had, and no session counted twice.
        var after = (await pipeline.RowsAsync("SELECT event_id, session_id FROM events FINAL"))
            .ToDictionary(r => $"{r["event_id"]}", r => $"{r["session_id"]}", StringComparer.Ordinal);
        Assert.Equal(sessionOf.OrderBy(p => p.Key, StringComparer.Ordinal), after.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(6UL, await pipeline.ScalarAsync("SELECT count() FROM sessions FINAL"));
        Assert.Equal(0UL, await pipeline.ScalarAsync("SELECT count() FROM sessions FINAL WHERE page_views != 3 OR events != 3"));
        Assert.Equal(3UL, await pipeline.ScalarAsync("SELECT count() FROM sessions FINAL WHERE company_name = 'Alberta Health Services'"));
        // The new company reached the replayed events and their sessions (same version, the newer row wins).
        Assert.Equal(9UL, await pipeline.ScalarAsync("SELECT count() FROM events FINAL WHERE company_name = 'Replay Corp'"));
        await Eventually.EqualAsync(3UL, () => pipeline.ScalarAsync("SELECT count() FROM sessions FINAL WHERE company_name = 'Replay Corp'"), "sessions re-attributed",
            context: () => second.Logs);
        // Live presence saw the originals only: a replay is not news.
        Assert.Equal(events.Count, pipeline.ReadLiveEvents(events.Count, Eventually.Timeout).Count);
    }
}
