using System.Globalization;
using System.Text;
using System.Diagnostics.Metrics;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Insights.Processors.Sessions;
using Microsoft.Extensions.DependencyInjection;
using static Insights.Processors.Tests.VisitTraffic;

namespace Insights.Processors.Tests;

/// <summary>
/// What a stranger's input may cost the session step, end to end on the dev stack: look-ups of long non-ASCII ids
/// never exceed what the server accepts, and visitor state stays under its byte cap with evicted visitors continuing
/// the same session from ClickHouse.
/// </summary>
public sealed class SessionLimitsTests(DevStackFixture stack)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>An id of <paramref name="length"/> UTF-16 units made of <paramref name="alphabet"/>'s text elements, unique by <paramref name="n"/>.</summary>
    private static string HostileId(string alphabet, int n, int length)
    {
        var id = new StringBuilder(n.ToString("D4", CultureInfo.InvariantCulture) + "-", length + 4);
        var elements = StringInfo.ParseCombiningCharacters(alphabet);
        for (var i = 0; id.Length < length; i++)
        {
            var start = elements[i % elements.Length];
            var end = i % elements.Length + 1 < elements.Length ? elements[i % elements.Length + 1] : alphabet.Length;
            if (id.Length + end - start > length)
            {
                break;
            }

            id.Append(alphabet, start, end - start);
        }

        return id.ToString();
    }

    [Fact]
    public async Task Two_requests_of_500_visitors_with_250_character_cjk_ids_and_six_day_old_timestamps_are_all_stored()
    {
        // The finding: a batch of 1,000 such visitors made one look-up URL of ~2.3 MB (HTTP 414), retried forever.
        var pipeline = await Pipeline.CreateAsync(stack, "hostile-ids");
        var now = DateTimeOffset.UtcNow;
        var events = Enumerable.Range(0, 1_000)
            .Select(i => View(HostileId("漢", i, 250), "/", now.AddDays(-6).AddSeconds(i), Comcast) with { ReceivedAt = now })
            .ToList();
        await pipeline.ProduceAsync(events);

        await using var processor = new InProcessProcessor(pipeline.Settings(batchMaxEvents: 1_000));
        await processor.StartAsync();
        await pipeline.WaitForAsync(events: 1_000, sessions: 1_000, () => processor.Logs);

        // Six days old, so not one of them could be known from memory: every visitor went to ClickHouse and came back.
        Assert.True(processor.Counter("insights.processors.sessions.lookups") >= 1_000, processor.Logs);
        Assert.Equal(0, processor.Counter("insights.processors.clickhouse.failures"));
        Assert.Equal(events.Select(e => e.AnonymousId!).ToHashSet(StringComparer.Ordinal), await StoredVisitorsAsync(pipeline));
    }

    [Fact]
    public async Task Ids_at_the_maximum_length_with_four_byte_characters_from_many_sites_continue_their_sessions()
    {
        // 40 sites × 25 visitors, ids of 256 UTF-16 units (ingest's limit) in emoji, Cyrillic, CJK, quotes and
        // backslashes; each visitor views two pages ten minutes apart, six days ago, in two separate deliveries.
        var pipeline = await Pipeline.CreateAsync(stack, "hostile-sites");
        var now = DateTimeOffset.UtcNow;
        string[] alphabets = ["😀🚀𝄞", "жщЖ", "漢字", "a'b\\c\"d ж😀"];
        var visitors = Enumerable.Range(0, 1_000).Select(i => (Site: $"site-{i % 40:D2}", Id: HostileId(alphabets[i % alphabets.Length], i, 256))).ToList();
        PipelineEvent At(int minutes, (string Site, string Id) v, int i) =>
            View(v.Id, $"/p{minutes}", now.AddDays(-6).AddMinutes(minutes).AddMilliseconds(i), Comcast, site: v.Site) with { ReceivedAt = now };

        await pipeline.ProduceAsync(visitors.Select((v, i) => At(0, v, i)));
        await using var processor = new InProcessProcessor(pipeline.Settings(batchMaxEvents: 1_000));
        await processor.StartAsync();
        await pipeline.WaitForAsync(events: 1_000, sessions: 1_000, () => processor.Logs);
        await pipeline.ProduceAsync(visitors.Select((v, i) => At(10, v, i)));
        await Eventually.EqualAsync(2_000UL, pipeline.CountFinalAsync, "events stored", context: () => processor.Logs);
        await Eventually.EqualAsync(2_000UL, () => pipeline.ScalarAsync("SELECT sum(page_views) FROM sessions FINAL"), "sessions grew", context: () => processor.Logs);

        Assert.Equal(1_000UL, await pipeline.ScalarAsync("SELECT count() FROM sessions FINAL"));
        Assert.Equal(40UL, await pipeline.ScalarAsync("SELECT uniqExact(site_id) FROM sessions FINAL"));
        Assert.Equal(0UL, await pipeline.ScalarAsync("SELECT countIf(page_views != 2) FROM sessions FINAL"));
        Assert.Equal(visitors.Select(v => v.Id).ToHashSet(StringComparer.Ordinal), await StoredVisitorsAsync(pipeline));
        Assert.Equal(1_000UL, await pipeline.ScalarAsync("SELECT uniqExact(session_id) FROM events FINAL"));
        Assert.Equal(0, processor.Counter("insights.processors.clickhouse.failures"));
    }

    [Fact]
    public async Task With_a_tiny_memory_cap_evicted_visitors_continue_the_same_session_and_memory_stays_under_the_cap()
    {
        const long cap = 64 * 1024;
        var pipeline = await Pipeline.CreateAsync(stack, "evictions");
        var settings = pipeline.Settings(batchMaxEvents: 100);
        settings["Sessions:MaxMemoryBytes"] = cap.ToString(CultureInfo.InvariantCulture);
        // No skew: once a partition was consumed past a visitor's window, only memory (or an eviction) says whether
        // they have a session to continue, so a wrong eviction would split sessions here.
        settings["Sessions:MaxClockSkewMinutes"] = "0";
        var t = new DateTimeOffset(2026, 11, 18, 9, 0, 0, TimeSpan.Zero);
        await pipeline.ProduceAsync(Enumerable.Range(0, 40).Select(i => View($"warm-up-{i}", "/", t, Comcast)));

        await using var processor = new InProcessProcessor(settings);
        using var http = await processor.StartAsync();
        await pipeline.WaitForAsync(events: 40, sessions: 40, () => processor.Logs);

        // 300 visitors of ~3 KB each (long ids and URLs): far more than 64 KiB, so most are evicted between their views.
        var visitors = Enumerable.Range(0, 300).Select(i => $"visitor-{i:D3}-" + new string('x', 200)).ToList();
        string Path(int i) => "/products/" + new string('p', 300) + i.ToString(CultureInfo.InvariantCulture);
        await pipeline.ProduceAsync(visitors.Select((v, i) => View(v, Path(i), t.AddMinutes(40).AddMilliseconds(i), Comcast)));
        await pipeline.WaitForAsync(events: 340, sessions: 340, () => processor.Logs);
        var lookupsBefore = processor.Counter("insights.processors.sessions.lookups");
        await pipeline.ProduceAsync(visitors.Select((v, i) => View(v, "/checkout", t.AddMinutes(50).AddMilliseconds(i), Comcast)));
        await Eventually.EqualAsync(640UL, pipeline.CountFinalAsync, "events stored", context: () => processor.Logs);
        await Eventually.EqualAsync(640UL, () => pipeline.ScalarAsync("SELECT sum(page_views) FROM sessions FINAL"), "sessions grew", context: () => processor.Logs);

        // No split: one session per visitor, holding both views, and both events carry its id.
        Assert.Equal(340UL, await pipeline.ScalarAsync("SELECT count() FROM sessions FINAL"));
        Assert.Equal(0UL, await pipeline.ScalarAsync(
            "SELECT count() FROM (SELECT anonymous_id, uniqExact(session_id) AS ids FROM events FINAL GROUP BY anonymous_id) WHERE ids != 1"));
        Assert.Equal(0UL, await pipeline.ScalarAsync(
            "SELECT countIf(page_views != 2 OR exit_page != '/checkout') FROM sessions FINAL WHERE startsWith(anonymous_id, 'visitor-')"));

        // Evicted for room, and read back from ClickHouse on their second view: the eviction was taken into account.
        var evicted = processor.Counter("insights.processors.sessions.evicted", "memory");
        Assert.True(evicted >= 200, $"evicted {evicted}\n{processor.Logs}");
        Assert.True(processor.Counter("insights.processors.sessions.lookups") - lookupsBefore >= 200, processor.Logs);

        var sessionizer = processor.Services.GetRequiredService<Sessionizer>();
        Assert.InRange(sessionizer.BytesInMemory, 1, cap);
        Assert.InRange(MemoryGauge(processor), 1, cap);
        Assert.Contains("insights_processors_sessions_memory_bytes", await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct), StringComparison.Ordinal);
    }

    /// <summary>
    /// This host's <c>insights.processors.sessions.memory</c> gauge, observed now. Read from the host's own meter factory:
    /// other processor hosts of this test process export series of the same name on /metrics.
    /// </summary>
    private static long MemoryGauge(InProcessProcessor processor)
    {
        var factory = processor.Services.GetRequiredService<IMeterFactory>();
        long? value = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == "insights.processors.sessions.memory")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, measurement, _, _) => value = measurement);
        listener.Start();
        listener.RecordObservableInstruments();
        return value ?? throw new InvalidOperationException("the host has no sessions memory gauge");
    }

    /// <summary>The visitors of the stored sessions, byte for byte as they were sent.</summary>
    private static async Task<HashSet<string>> StoredVisitorsAsync(Pipeline pipeline) =>
        (await pipeline.RowsAsync("SELECT anonymous_id FROM sessions FINAL")).Select(r => (string)r["anonymous_id"]).ToHashSet(StringComparer.Ordinal);
}
