using System.Text.Json;
using Insights.Contracts;
using Insights.Enrichment;
using Insights.Processors.Sessions;
using Microsoft.Extensions.Options;

namespace Insights.Processors.Tests;

/// <summary>
/// Session cutting, pure: batches folded in Kafka order, written to a stand-in for the sessions table (what a
/// processor would read back after a restart), committed. The same logic runs end to end in SessionPipelineTests.
/// </summary>
public sealed class SessionizerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_gap_of_more_than_30_minutes_starts_a_new_session_with_its_own_entry_exit_and_bounce()
    {
        var run = new Harness();

        run.Fold(run.View("/", T0), run.View("/pricing", T0.AddMinutes(10)), run.View("/contact", T0.AddMinutes(39)),
            run.View("/blog", T0.AddMinutes(70)));

        var sessions = run.Stored();
        Assert.Equal(2, sessions.Count);
        var (first, second) = (sessions[0], sessions[1]);
        Assert.Equal(("/", "/contact", 3u, 39u * 60, false), (first.EntryPage, first.ExitPage, first.PageViews, first.DurationSeconds, first.Bounce));
        Assert.Equal(["/", "/pricing", "/contact"], first.Pages);
        Assert.Equal(("/blog", "/blog", 1u, 0u, true), (second.EntryPage, second.ExitPage, second.PageViews, second.DurationSeconds, second.Bounce));
    }

    [Fact]
    public void Exactly_30_minutes_apart_is_still_one_session_and_one_millisecond_more_is_two()
    {
        var run = new Harness();

        run.Fold(run.View("/", T0), run.View("/a", T0.AddMinutes(30)), run.View("/b", T0.AddMinutes(60).AddMilliseconds(1)));

        Assert.Equal([2u, 1u], run.Stored().Select(s => s.PageViews));
    }

    [Fact]
    public void A_visit_across_midnight_is_one_session()
    {
        var run = new Harness();
        var lateEvening = new DateTimeOffset(2026, 11, 30, 23, 50, 0, TimeSpan.Zero);

        run.Fold(run.View("/", lateEvening), run.View("/pricing", lateEvening.AddMinutes(15)), run.View("/contact", lateEvening.AddMinutes(25)));

        var session = Assert.Single(run.Stored());
        Assert.Equal((3u, 25u * 60, "/", "/contact"), (session.PageViews, session.DurationSeconds, session.EntryPage, session.ExitPage));
        Assert.Equal(lateEvening.UtcDateTime, session.OpenedAt);
    }

    [Fact]
    public void After_a_restart_the_session_continues_from_what_clickhouse_holds()
    {
        var run = new Harness();
        run.Fold(run.View("/", T0), run.View("/pricing", T0.AddMinutes(5)));
        var before = Assert.Single(run.Stored());

        var restarted = run.Restart();
        restarted.Fold(restarted.View("/contact", T0.AddMinutes(20)));

        var after = Assert.Single(restarted.Stored());
        Assert.Equal(before.Id, after.Id);
        Assert.Equal((3u, "/", "/contact", 20u * 60), (after.PageViews, after.EntryPage, after.ExitPage, after.DurationSeconds));
        Assert.Equal(1, restarted.LookedUp);
    }

    [Fact]
    public void A_replayed_batch_is_recognised_by_its_offsets_and_counts_once()
    {
        var run = new Harness();
        var batch = Enumerable.Range(0, 5).Select(i => run.View($"/p{i}", T0.AddMinutes(i))).ToArray();
        run.Fold(batch);

        // The crash came before the offsets were committed: the same messages, and two new ones, are read again.
        var restarted = run.Restart();
        var result = restarted.Fold([.. batch, restarted.View("/p5", T0.AddMinutes(5)), restarted.View("/p6", T0.AddMinutes(6))]);

        Assert.Equal(5, result.Replayed);
        Assert.All(result.SessionIds.Take(5), Assert.Null);
        var session = Assert.Single(restarted.Stored());
        Assert.Equal(7u, session.PageViews);
        Assert.Equal(7u, session.Events);
    }

    [Fact]
    public void Folding_the_same_events_again_from_the_same_state_gives_the_same_rows()
    {
        var events = new Harness().Batch(("/", 0), ("/pricing", 4), ("/x", 50));
        var first = new Harness().Fold(events);
        var second = new Harness().Fold(events);

        Assert.Equal(first.Changed.Select(s => string.Join('|', s.ToRow().Select(Format))), second.Changed.Select(s => string.Join('|', s.ToRow().Select(Format))));

        static string Format(object value) => value is string[] array ? string.Join(',', array) : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!;
    }

    [Fact]
    public void A_topic_recreated_with_offsets_from_zero_is_new_traffic_not_a_replay()
    {
        var run = new Harness();
        run.Fold(run.View("/", T0), run.View("/a", T0.AddMinutes(1)));

        var restarted = run.Restart(offsetsFrom: 0);
        var result = restarted.Fold(restarted.View("/b", T0.AddMinutes(2), receivedLater: TimeSpan.FromMinutes(1)));

        Assert.Equal(0, result.Replayed);
        Assert.Equal(3u, Assert.Single(restarted.Stored()).PageViews);
    }

    [Fact]
    public void A_late_event_within_the_gap_joins_the_session_and_becomes_its_entry()
    {
        var run = new Harness();
        run.Fold(run.View("/pricing", T0), run.View("/contact", T0.AddMinutes(10)));

        run.Fold(run.View("/", T0.AddMinutes(-20)));

        var session = Assert.Single(run.Stored());
        Assert.Equal(("/", "/contact", 3u, T0.AddMinutes(-20).UtcDateTime), (session.EntryPage, session.ExitPage, session.PageViews, session.StartedAt));
        Assert.Equal(T0.UtcDateTime, session.OpenedAt);
    }

    [Fact]
    public void A_late_event_for_an_earlier_visit_joins_that_visit_even_after_a_restart()
    {
        var run = new Harness();
        run.Fold(run.View("/", T0), run.View("/a", T0.AddMinutes(5)), run.View("/b", T0.AddHours(2)));
        var restarted = run.Restart();
        restarted.Fold(restarted.View("/c", T0.AddHours(2).AddMinutes(1)));

        // An offline queue flushes a page view from the first visit.
        restarted.Fold(restarted.View("/late", T0.AddMinutes(8)));

        Assert.Equal([3u, 2u], restarted.Stored().Select(s => s.PageViews));
        Assert.Equal("/late", restarted.Stored()[0].ExitPage);
    }

    [Fact]
    public void A_late_event_far_before_every_visit_opens_its_own_session()
    {
        var run = new Harness();
        run.Fold(run.View("/", T0));

        run.Fold(run.View("/old", T0.AddHours(-3)));

        Assert.Equal(["/old", "/"], run.Stored().Select(s => s.EntryPage));
    }

    [Fact]
    public void The_same_event_delivered_twice_counts_once()
    {
        var run = new Harness();
        var view = run.View("/", T0);

        var result = run.Fold(view, run.Redeliver(view), run.View("/a", T0.AddMinutes(1)));

        Assert.Equal(2u, Assert.Single(run.Stored()).PageViews);
        Assert.Equal(result.SessionIds[0], result.SessionIds[1]);
    }

    [Fact]
    public void A_retry_stamped_with_another_time_counts_once_and_is_written_with_the_first_deliverys_time()
    {
        // A server that leaves the time to ingest gets each attempt's arrival: the retry carries another timestamp,
        // here across an hour, in the same batch and in a later one. `events` collapses two rows only when their
        // sorting key, which holds the hour, is equal, so the retry's row must carry the first time.
        var run = new Harness();
        var first = run.View("/", T0.AddMinutes(59).AddSeconds(59).AddTicks(1234));
        var second = run.View("/a", T0.AddMinutes(59).AddSeconds(59).AddMilliseconds(500));

        var together = run.Fold(first, run.Retry(first, TimeSpan.FromSeconds(3)));
        run.Fold(second);
        var later = run.Fold(run.Retry(second, TimeSpan.FromSeconds(2)));
        var same = run.Fold(run.Redeliver(first));

        Assert.Equal(2u, Assert.Single(run.Stored()).PageViews);
        Assert.Null(together.FirstTimeOf(0));
        Assert.Equal(first.Timestamp.UtcDateTime, together.FirstTimeOf(1));
        Assert.Equal(together.SessionIds[0], together.SessionIds[1]);
        Assert.Equal(second.Timestamp.UtcDateTime, later.FirstTimeOf(0));
        Assert.Null(same.FirstTimeOf(0)); // the same time already: the row is written as it is
    }

    [Fact]
    public void A_retry_of_an_event_whose_session_memory_has_let_go_writes_no_second_row()
    {
        // The visitor came back two hours later: memory keeps only the latest session. A late retry of the first visit's
        // page view is recognised by its id; its row is stored already, and no session could take it again.
        var run = new Harness();
        var early = run.View("/", T0);
        run.Fold(early);
        run.Fold(run.View("/back", T0.AddHours(2)));

        var retry = run.Fold(run.Retry(early, TimeSpan.FromHours(2.5)));

        Assert.Null(retry.SessionIds[0]);
        Assert.Null(retry.FirstTimeOf(0));
        Assert.Equal(1, retry.Replayed);
        Assert.Equal([1u, 1u], run.Stored().Select(s => s.PageViews));
    }

    [Fact]
    public void A_duplicate_of_any_of_the_visitors_last_32_events_counts_once_while_their_record_grows_and_wraps()
    {
        // The record of recent event ids starts small and grows (4, 8, 16, 32) with the visitor's events; a duplicate
        // must be found on both sides of every growth and after the ring wraps, from batches before, and the bytes it
        // holds must be given back exactly.
        var run = new Harness();
        var views = Enumerable.Range(0, 40).Select(i => run.View($"/p{i}", T0.AddSeconds(10 * i))).ToArray();
        foreach (var view in views)
        {
            run.Fold(view);
        }

        var again = run.Fold([.. views[^32..].Select(run.Redeliver)]);

        var session = Assert.Single(run.Stored());
        Assert.Equal(40u, session.PageViews);
        Assert.All(again.SessionIds, id => Assert.Equal(session.Id, id));
        run.Sessionizer.Forget([0]);
        Assert.Equal(0, run.Sessionizer.BytesInMemory);
    }

    [Fact]
    public void Engagement_pings_add_time_and_length_but_do_not_make_a_bounce_an_engaged_visit()
    {
        var run = new Harness();

        run.Fold(run.View("/", T0), run.Event(EventTypes.Track, T0.AddSeconds(40), "engagement", """{"engaged_ms":40000,"pageview_id":"p1"}"""));
        var bounced = Assert.Single(run.Stored());
        Assert.Equal((true, 40_000UL, 40u), (bounced.Bounce, bounced.EngagedMs, bounced.DurationSeconds));

        run.Fold(run.Event(EventTypes.Track, T0.AddSeconds(50), "signup"));
        Assert.False(Assert.Single(run.Stored()).Bounce);
    }

    [Theory]
    [InlineData("""{"engaged_ms":-5}""", 0UL)]
    [InlineData("""{"engaged_ms":"many"}""", 0UL)]
    [InlineData("""{"engaged_ms":1e300}""", 1_800_000UL)]
    [InlineData("""[1,2]""", 0UL)]
    public void Hostile_engagement_values_are_bounded(string properties, ulong expected)
    {
        var run = new Harness();

        run.Fold(run.View("/", T0), run.Event(EventTypes.Track, T0.AddSeconds(1), "engagement", properties));

        Assert.Equal(expected, Assert.Single(run.Stored()).EngagedMs);
    }

    [Fact]
    public void The_landing_page_view_sets_channel_referrer_tags_and_who_the_visitor_is()
    {
        var run = new Harness();
        var office = new VisitAttributes(new GeoLocation("CA", "Alberta", "Edmonton", null, null),
            new DeviceInfo("Chrome", 131, "Windows", "10", DeviceTypes.Desktop),
            new CompanyMatch("Alberta Health Services", null, CompanySources.AsnCsv, 0.5f, true, NetworkKinds.Business, 16623),
            CompanyIds.Of("Alberta Health Services"));

        run.Fold(
            run.View("/?utm_source=newsletter&utm_medium=email&utm_campaign=black%20friday", T0, "https://mail.google.com/", office),
            run.View("/pricing", T0.AddMinutes(1), "https://www.google.com/", office with { Geo = new GeoLocation("US", null, null, null, null) }));

        var session = Assert.Single(run.Stored());
        Assert.Equal((Channels.Email, "newsletter", "email", "black friday", "mail.google.com"),
            (session.Channel, session.UtmSource, session.UtmMedium, session.UtmCampaign, session.ReferrerHost));
        Assert.Equal(("CA", "Edmonton", "Chrome", "Windows", DeviceTypes.Desktop), (session.Country, session.City, session.Browser, session.Os, session.DeviceType));
        Assert.Equal((office.CompanyId, "Alberta Health Services", NetworkKinds.Business), (session.CompanyId, session.CompanyName, session.NetworkKind));
    }

    [Fact]
    public void A_residential_visitor_has_a_network_kind_but_no_company()
    {
        var run = new Harness();
        var home = new VisitAttributes(null, null, new CompanyMatch("Comcast Cable Communications, LLC", null, CompanySources.AsnCsv, 0.5f, false, NetworkKinds.ConsumerIsp, 7922), "");

        run.Fold(run.View("/", T0, attributes: home));

        var session = Assert.Single(run.Stored());
        Assert.Equal((NetworkKinds.ConsumerIsp, "", ""), (session.NetworkKind, session.CompanyId, session.CompanyName));
    }

    [Fact]
    public void A_server_keys_group_call_makes_the_visit_its_declared_companys_over_the_network_and_without_a_name_or_from_a_public_key_changes_nothing()
    {
        var run = new Harness();
        var office = new VisitAttributes(null, null,
            new CompanyMatch("Alberta Health Services", null, CompanySources.AsnCsv, 0.5f, true, NetworkKinds.Business, 16623), CompanyIds.Of("Alberta Health Services"));

        // Segment's group(): ingest keeps the traits as the properties, with groupId first.
        run.Fold(
            run.View("/", T0, attributes: office),
            run.Event(EventTypes.Group, T0.AddMinutes(1), properties: """{"groupId":"g-1","name":"  Zoë's Bakery ","website":"https://WWW.Zoes-Bakery.example/about"}"""),
            run.View("/pricing", T0.AddMinutes(2), attributes: office),
            run.Event(EventTypes.Group, T0.AddMinutes(3), properties: """{"groupId":"g-2","industry":"Food"}"""),
            run.Event(EventTypes.Group, T0.AddMinutes(4), visitor: "v2", properties: """{"groupId":"g-3","name":"Acme","domain":"javascript:alert(1)"}"""),
            // The public write key's group (the browser's, or anyone's who read the page) names no company.
            run.Event(EventTypes.Group, T0.AddMinutes(5), visitor: "v3", properties: """{"groupId":"g-4","name":"Microsoft","domain":"microsoft.com"}"""
                ) with { EventId = EventIds.PublicPrefix + "forged" },
            run.View("/", T0.AddMinutes(5), visitor: "v3"));

        var session = Assert.Single(run.Stored());
        Assert.Equal((CompanyIds.Of("Zoë's Bakery"), "Zoë's Bakery", "zoes-bakery.example"), (session.CompanyId, session.CompanyName, session.CompanyDomain));
        var other = Assert.Single(run.Stored("v2"));
        Assert.Equal((CompanyIds.Of("Acme"), "Acme", ""), (other.CompanyId, other.CompanyName, other.CompanyDomain));
        var browser = Assert.Single(run.Stored("v3"));
        Assert.Equal(("", ""), (browser.CompanyId, browser.CompanyName));
    }

    [Fact]
    public void Visitors_are_kept_apart_and_memory_is_emptied_for_partitions_given_away()
    {
        var run = new Harness();
        run.Fold(run.View("/", T0), run.View("/", T0, visitor: "other"));
        Assert.Equal(2, run.Sessionizer.VisitorsInMemory);

        run.Sessionizer.Forget([0]);

        Assert.Equal(0, run.Sessionizer.VisitorsInMemory);
        run.Fold(run.View("/a", T0.AddMinutes(1)));
        Assert.Equal(2, run.Stored().Count + run.Stored("other").Count);
        Assert.Equal(2u, run.Stored()[0].PageViews);
    }

    [Fact]
    public void Memory_is_counted_in_bytes_from_the_visitors_strings_and_given_back_exactly()
    {
        var run = new Harness();
        run.Fold(run.View("/", T0));
        var one = run.Sessionizer.BytesInMemory;
        Assert.InRange(one, 1_000, 5_000);

        var longId = new string('漢', 256);
        run.Fold(run.View("/" + new string('p', 1_000), T0, visitor: longId));

        // The second visitor costs at least its id twice (key and session) and its page twice (entry, exit, pages share it).
        Assert.True(run.Sessionizer.BytesInMemory - one >= 2 * (2 * 256) + 2 * 1_000, $"{run.Sessionizer.BytesInMemory - one} bytes");
        run.Fold(run.View("/a", T0.AddMinutes(1)), run.View("/b", T0.AddMinutes(1), visitor: longId));
        run.Sessionizer.Forget([0]);
        Assert.Equal(0, run.Sessionizer.BytesInMemory);
    }

    [Fact]
    public void Once_a_partition_was_consumed_for_longer_than_clock_skew_and_gap_new_visitors_need_no_lookup()
    {
        var run = new Harness();
        run.Fold(run.View("/", T0));
        Assert.Equal(1, run.LookedUp);

        // Within the first 60 (skew) + 30 (gap) minutes another processor may have seen this visitor: look up.
        run.Fold(run.View("/", T0.AddMinutes(80), visitor: "early"));
        Assert.Equal(2, run.LookedUp);

        // Later, every event of the partition passed through here: an unknown visitor is a new one.
        run.Fold(run.View("/", T0.AddHours(2), visitor: "new"), run.View("/a", T0.AddHours(2).AddMinutes(1), visitor: "new"));
        Assert.Equal(2, run.LookedUp);
        Assert.Equal(2u, Assert.Single(run.Stored("new")).PageViews);

        // ... unless the event is old enough to belong to what this processor never saw.
        run.Fold(run.View("/", T0.AddMinutes(-10), visitor: "late"));
        Assert.Equal(3, run.LookedUp);

        // A partition given away and taken back starts over.
        run.Sessionizer.Forget([0]);
        run.Fold(run.View("/", T0.AddHours(3), visitor: "after-rebalance"));
        Assert.Equal(4, run.LookedUp);
    }

    [Fact]
    public void A_visitor_the_batch_did_not_plan_for_is_refused_rather_than_split()
    {
        var sessionizer = new Sessionizer(Options.Create(new SessionizerOptions()), TimeProvider.System);
        var e = new Harness().View("/", T0);

        Assert.Throws<InvalidOperationException>(() => sessionizer.Fold([new SessionInput(0, 0, 0, e, "/", default)], 1));
    }

    /// <summary>A processor's sessionizer over a stand-in for the sessions table (latest version per id).</summary>
    private sealed class Harness
    {
        private readonly Dictionary<string, Session> table;

        // What the stream has carried so far, shared by a harness and the ones restarted from it: a replayed event
        // keeps its Kafka offset.
        private readonly Stream stream;

        public Harness()
            : this(new Dictionary<string, Session>(StringComparer.Ordinal), new Stream())
        {
        }

        private Harness(Dictionary<string, Session> table, Stream stream) => (this.table, this.stream) = (table, stream);

        public Sessionizer Sessionizer { get; } = new(Options.Create(new SessionizerOptions()), TimeProvider.System);

        public int LookedUp { get; private set; }

        /// <summary>A new processor over the same table; <paramref name="offsetsFrom"/> simulates a recreated topic.</summary>
        public Harness Restart(long? offsetsFrom = null)
        {
            if (offsetsFrom is { } next)
            {
                stream.Next = next;
            }

            return new Harness(table, stream);
        }

        public PipelineEvent View(string path, DateTimeOffset at, string? referrer = null, VisitAttributes attributes = default, string visitor = "v1",
            TimeSpan? receivedLater = null)
        {
            var e = Event(EventTypes.Pageview, at, null, null, visitor, receivedLater) with { Url = "https://shop.example.com" + path, Referrer = referrer };
            stream.Attributes[e.EventId] = attributes;
            return e;
        }

        public PipelineEvent Event(string type, DateTimeOffset at, string? name = null, string? properties = null, string visitor = "v1", TimeSpan? receivedLater = null) => new()
        {
            EventId = $"e{++stream.Events}",
            Type = type,
            Name = name,
            SiteId = "shop",
            AnonymousId = visitor,
            Timestamp = at,
            ReceivedAt = at.AddMilliseconds(30).Add(receivedLater ?? TimeSpan.Zero),
            Properties = properties is null ? null : JsonDocument.Parse(properties).RootElement,
        };

        /// <summary>The same event sent again by its client: a new Kafka message with the same event id.</summary>
        /// <summary>A client's retry of the event that ingest stamped again: another timestamp and received time.</summary>
        public PipelineEvent Retry(PipelineEvent e, TimeSpan later)
        {
            var copy = e with { Timestamp = e.Timestamp + later, ReceivedAt = e.ReceivedAt + later };
            stream.Redelivered.Add(copy);
            return copy;
        }

        public PipelineEvent Redeliver(PipelineEvent e)
        {
            var copy = e with { };
            stream.Redelivered.Add(copy);
            return copy;
        }

        public PipelineEvent[] Batch(params (string Path, int Minute)[] views) => [.. views.Select(v => View(v.Path, T0.AddMinutes(v.Minute)))];

        public FoldResult Fold(params PipelineEvent[] events)
        {
            var inputs = events.Select((e, i) => new SessionInput(i, 0, stream.OffsetOf(e), e, EventRowMapper.PathOf(e.Url),
                stream.Attributes.GetValueOrDefault(e.EventId))).ToList();
            foreach (var need in Sessionizer.Plan(inputs))
            {
                LookedUp++;
                Sessionizer.Absorb(need, [.. table.Values
                    .Where(s => s.Site == need.Visitor.Site && s.Visitor == need.Visitor.Visitor && s.EndedAt >= need.Since)
                    .Select(s => s.Clone())]);
            }

            var result = Sessionizer.Fold(inputs, events.Length);
            foreach (var session in result.Changed)
            {
                table[session.Id] = session.Clone();
            }

            Sessionizer.Commit(result);
            return result;
        }

        public List<Session> Stored(string visitor = "v1") => [.. table.Values.Where(s => s.Visitor == visitor).OrderBy(s => s.StartedAt)];

        private sealed class Stream
        {
            public long Next { get; set; }

            public int Events { get; set; }

            public Dictionary<string, long> Offsets { get; } = new(StringComparer.Ordinal);

            public Dictionary<string, VisitAttributes> Attributes { get; } = new(StringComparer.Ordinal);

            /// <summary>A message's offset: a replay reads the same message at the same offset; a duplicate delivery is a new message.</summary>
            public long OffsetOf(PipelineEvent e) => Offsets.TryGetValue(e.EventId, out var known) && !Redelivered.Contains(e) ? known : Offsets[e.EventId] = Next++;

            public HashSet<PipelineEvent> Redelivered { get; } = new(ReferenceEqualityComparer.Instance);
        }
    }
}
