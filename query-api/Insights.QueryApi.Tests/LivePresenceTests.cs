using System.Diagnostics.Metrics;
using System.Text.Json;
using Insights.Contracts;
using Insights.QueryApi.Companies;
using Insights.QueryApi.Live;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Tests;

/// <summary>The presence state machine on its own: what an agent watching the list would see after each event.</summary>
public sealed class LivePresenceTests
{
    private const string Site = "shop";
    private readonly ManualClock clock = new(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_visitor_joins_moves_between_pages_and_the_visit_gains_score_on_high_intent_pages()
    {
        var board = Board();
        board.Apply(View("v1", "/blog/post", "e1", title: "Blog — 価格"));
        clock.Advance(TimeSpan.FromSeconds(30));
        board.Apply(View("v1", "/pricing", "e2", title: "Preise"));

        var visitor = Assert.Single(board.Site(Site).Snapshot(clock.GetUtcNow()).Visitors);
        Assert.Equal(("/pricing", "Preise"), (visitor.Page!.Path, visitor.Page.Title));
        Assert.Equal(["/blog/post", "/pricing"], visitor.Pages);
        Assert.Equal(2, visitor.PageViews);
        Assert.Equal(0, visitor.TimeOnPageSeconds);
        Assert.Equal(30, visitor.TimeOnSiteSeconds);
        Assert.Equal("Acme", visitor.Company?.Name);
        // 10 per visit + 2 for the second view + 15 for /pricing = 27 points → 100 × (1 − e^−0.27) ≈ 24.
        Assert.Equal(24, visitor.Score);

        var changes = Changes(board);
        Assert.Equal([LiveEventNames.Joined, LiveEventNames.PageChanged], changes.Select(c => c.Event));
        Assert.Equal(changes[0].Id + 1, changes[1].Id);
        Assert.Equal("/pricing", Json(changes[1]).GetProperty("page").GetProperty("path").GetString());
        Assert.Equal("Blog — 価格", Json(changes[0]).GetProperty("page").GetProperty("title").GetString());
    }

    [Fact]
    public void A_visitor_with_no_event_for_the_idle_timeout_leaves_and_one_still_active_stays()
    {
        var board = Board();
        board.Apply(View("gone", "/", "e1"));
        clock.Advance(TimeSpan.FromMinutes(3));
        board.Apply(View("staying", "/", "e2"));
        clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));

        Assert.Equal(1, board.Sweep());

        Assert.Equal("staying", Assert.Single(board.Site(Site).Snapshot(clock.GetUtcNow()).Visitors).VisitorId);
        var left = Changes(board)[^1];
        Assert.Equal(LiveEventNames.Left, left.Event);
        Assert.Equal("gone", Json(left).GetProperty("visitorId").GetString());
        Assert.Equal("idle", Json(left).GetProperty("reason").GetString());
        Assert.Equal(0, board.Sweep());
    }

    [Fact]
    public void A_hidden_tab_marks_the_visitor_idle_until_the_next_event()
    {
        var board = Board();
        board.Apply(View("v1", "/", "e1"));
        board.Apply(Event("v1", EventTypes.Track, "e2") with { Name = "engagement", EngagedMs = 4000 });
        Assert.False(Single(board).Active);

        board.Apply(View("v1", "/docs", "e3"));
        Assert.True(Single(board).Active);
        Assert.Equal([LiveEventNames.Joined, LiveEventNames.Updated, LiveEventNames.PageChanged], Changes(board).Select(c => c.Event));
    }

    [Fact]
    public void Chat_events_move_the_visitor_from_browsing_to_chatting_to_chat_ended()
    {
        var board = Board();
        board.Apply(View("v1", "/", "e1"));
        Assert.Equal(ChatStates.Browsing, Single(board).ChatState);

        board.Apply(Event("v1", EventTypes.ChatStarted, "c1") with { ChatId = "chat-1" });
        Assert.Equal((ChatStates.Chatting, 1), (Single(board).ChatState, Single(board).Chats));
        board.Apply(Event("v1", EventTypes.ChatMessage, "c2"));
        board.Apply(Event("v1", EventTypes.ChatEnded, "c3"));
        Assert.Equal((ChatStates.ChatEnded, 1), (Single(board).ChatState, Single(board).Chats));

        board.Apply(Event("v1", EventTypes.Track, "t1") with { Name = "add_to_cart", Amount = 59.90m, Currency = "EUR" });
        board.Apply(Event("v1", EventTypes.Order, "o1") with { Amount = 59.90m, Currency = "EUR" });
        Assert.Equal((59.90m, 59.90m, "EUR"), (Single(board).CartValue, Single(board).OrderValue, Single(board).Currency));

        // The chat message changed nothing a viewer sees: no event for it.
        Assert.Equal([LiveEventNames.Joined, LiveEventNames.Updated, LiveEventNames.Updated, LiveEventNames.Updated, LiveEventNames.Updated],
            Changes(board).Select(c => c.Event));
    }

    [Fact]
    public void Repeated_stale_and_historical_events_change_nothing()
    {
        var board = Board();
        board.Apply(View("v1", "/", "e1"));
        board.Apply(View("v1", "/", "e1"));
        board.Apply(View("v2", "/", "old") with { ReceivedAt = clock.GetUtcNow() - TimeSpan.FromMinutes(6) });
        // History a server sends now (scripts/run.sh --demo's month of visits): it arrived now, but happened long ago.
        board.Apply(View("v3", "/", "imported") with { Timestamp = clock.GetUtcNow() - TimeSpan.FromDays(3) });

        Assert.Equal(1, Single(board).PageViews);
        Assert.Single(Changes(board));
    }

    [Fact]
    public void A_new_visit_of_a_present_visitor_starts_its_pages_again_and_a_late_event_of_the_old_visit_is_ignored()
    {
        var board = Board();
        board.Apply(View("v1", "/a", "e1") with { Visit = Visit("s1", 0) });
        board.Apply(View("v1", "/b", "e2") with { Visit = Visit("s2", 1) });
        board.Apply(View("v1", "/late", "e3") with { Visit = Visit("s1", 0) });

        var visitor = Single(board);
        Assert.Equal(("s2", "/b"), (visitor.SessionId, visitor.Page!.Path));
        Assert.Equal(["/b"], visitor.Pages);
    }

    [Fact]
    public void Visits_looked_up_after_joining_say_returning_or_new()
    {
        var board = Board();
        board.Apply(View("back", "/", "e1"));
        board.Apply(View("new", "/", "e2"));
        Assert.Null(board.Site(Site).Snapshot(clock.GetUtcNow()).Visitors[0].Returning);
        Assert.Equal(["back", "new"], board.TakeJoined(10).Select(j => j.Visitor).Order());
        Assert.Empty(board.TakeJoined(10));

        board.SetVisits(Site, "back", 3);
        board.SetVisits(Site, "new", 1);
        board.SetVisits(Site, "new", 1);
        board.SetVisits(Site, "gone", 2);

        var visitors = board.Site(Site).Snapshot(clock.GetUtcNow()).Visitors.ToDictionary(v => v.VisitorId);
        Assert.Equal((3L, true), (visitors["back"].Visits, visitors["back"].Returning));
        Assert.Equal((1L, false), (visitors["new"].Visits, visitors["new"].Returning));
        Assert.Equal(2, Changes(board).Count(c => c.Event == LiveEventNames.Updated));
    }

    [Fact]
    public void Memory_stays_under_the_cap_by_letting_the_longest_unseen_visitors_go()
    {
        var board = Board(maxBytes: 1024 * 1024);
        for (var i = 0; i < 20_000; i++)
        {
            // Hostile sizes: 250-character ids and long titles, the most one stranger can send.
            board.Apply(View($"visitor-{i:D6}-{new string('x', 240)}", $"/p/{i}", $"e{i}", title: new string('t', 500)));
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.InRange(board.Budget.HeldBytes, 1, 1024 * 1024);
        var present = board.Site(Site).Snapshot(clock.GetUtcNow()).Visitors;
        Assert.InRange(present.Count, 100, 19_999);
        Assert.StartsWith("visitor-019999-", present[0].VisitorId, StringComparison.Ordinal);
        Assert.DoesNotContain(present, v => v.VisitorId.StartsWith("visitor-000000-", StringComparison.Ordinal));
        Assert.True(board.Budget.Evictions >= 20_000 - present.Count);
    }

    [Fact]
    public void A_reader_resumes_after_any_id_still_held_and_is_told_to_reset_for_an_older_or_unknown_one()
    {
        var board = Board(replay: 16);
        for (var i = 0; i < 40; i++)
        {
            board.Apply(View("v1", $"/p/{i}", $"e{i}"));
        }

        var site = board.Site(Site);
        var last = site.LastId;
        var (recent, _) = site.Read(last - 5, 100);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => last - 5 + i), recent!.Select(c => c.Id));
        Assert.Empty(site.Read(last, 100).Changes!);
        Assert.Null(site.Read(last - 20, 100).Changes);
        Assert.Null(site.Read(last + 1, 100).Changes);
        Assert.Null(site.Read(-1, 100).Changes);
    }

    [Fact]
    public void Nobody_reading_a_site_keeps_no_changes_and_a_reader_coming_back_resets_then_resumes_from_its_snapshot()
    {
        var board = Board(watched: false);
        var site = board.Site(Site);
        board.Apply(View("v1", "/", "e0"));
        Assert.Null(site.Read(board.FirstId - 1, 10).Changes);

        // A reader took the site's position: the changes after it are kept for the resume window.
        board.Apply(View("v1", "/", "e1"));
        var seen = site.LastId;
        Assert.Single(site.Read(seen - 1, 10).Changes!);

        // Past the resume window without a reader: the changes take ids but are not kept, nor is the ring before them.
        clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        board.Apply(View("v1", "/pricing", "e2"));
        board.Apply(View("v2", "/", "e3"));
        Assert.Equal(seen + 2, site.LastId);
        Assert.Equal(3, Single(board, "v1").PageViews);

        // The reader's id is gone: a reset, never a silent gap. Its fresh snapshot is resumable from then on.
        Assert.Null(site.Read(seen, 10).Changes);
        var (visitors, snapshotId) = site.Snapshot(clock.GetUtcNow());
        Assert.Equal(2, visitors.Count);
        board.Apply(View("v2", "/docs", "e4"));
        var change = Assert.Single(site.Read(snapshotId, 10).Changes!);
        Assert.Equal((snapshotId + 1, LiveEventNames.PageChanged), (change.Id, change.Event));
    }

    [Fact]
    public void A_site_opened_after_nobody_watched_it_queues_its_visitors_whose_visits_are_unknown()
    {
        var board = Board(watched: false);
        board.Apply(View("known", "/", "e1"));
        board.Apply(View("unknown", "/", "e2"));
        Assert.Equal(2, board.TakeJoined(10).Count);
        Assert.False(board.IsWatched(Site));
        board.SetVisits(Site, "known", 4);

        // A snapshot opens the site: the one still unknown is queued again (the look-ups skipped it while unwatched).
        board.Site(Site).Snapshot(clock.GetUtcNow());
        Assert.True(board.IsWatched(Site));
        Assert.Equal(["unknown"], board.TakeJoined(10).Select(j => j.Visitor));

        // Read again within the window: nothing new to queue. Past it, nobody watches, until the next read.
        board.Site(Site).Snapshot(clock.GetUtcNow());
        Assert.Empty(board.TakeJoined(10));
        clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        Assert.False(board.IsWatched(Site));
        Assert.False(board.IsWatched("never-seen"));
    }

    [Fact]
    public void An_open_stream_keeps_its_sites_changes_and_after_it_closes_they_are_kept_for_the_resume_window()
    {
        var board = Board(watched: false);
        var site = board.Site(Site);
        var stream = site.Follow();
        var after = site.LastId;
        clock.Advance(TimeSpan.FromMinutes(30));
        board.Apply(View("v1", "/", "e1"));
        Assert.Equal([LiveEventNames.Joined], site.Read(after, 10).Changes!.Select(c => c.Event));
        after = site.LastId;

        stream.Dispose();
        stream.Dispose();
        clock.Advance(TimeSpan.FromMinutes(2));
        board.Apply(View("v1", "/pricing", "e2"));
        Assert.Equal([LiveEventNames.PageChanged], site.Read(after, 10).Changes!.Select(c => c.Event));
        after = site.LastId;

        clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        board.Apply(View("v1", "/docs", "e3"));
        Assert.Null(site.Read(after, 10).Changes);
    }

    [Fact]
    public async Task A_reader_waiting_for_the_next_change_is_woken_by_it()
    {
        var board = Board();
        var site = board.Site(Site);
        var (_, next) = site.Read(site.LastId, 10);
        Assert.False(next.IsCompleted);

        board.Apply(View("v1", "/", "e1"));

        await next.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    // Watched: the site's stream is open throughout (an agent's live page), so every change is kept (SitePresence).
    private PresenceBoard Board(long maxBytes = 64 * 1024 * 1024, int replay = 2048, bool watched = true)
    {
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var board = new PresenceBoard(Options.Create(new LiveOptions { MaxBytes = maxBytes, ReplayEvents = replay }),
            Options.Create(new LeadScoreOptions()), clock, new LiveMetrics(meters));
        if (watched)
        {
            board.Site(Site).Follow();
        }

        return board;
    }

    private LiveEvent View(string visitor, string path, string id, string title = "Title") => Event(visitor, EventTypes.Pageview, id) with
    {
        Url = "https://shop.example" + path, Path = path, Title = title,
        Company = new LiveCompany("acme-1a2b3c4d", "Acme", "acme.example"),
        Geo = new LiveGeo("DE", "Berlin", "Berlin"),
        Device = new LiveDevice("desktop", "Chrome", "Windows"),
    };

    private LiveEvent Event(string visitor, string type, string id) => new()
    {
        EventId = id, Type = type, SiteId = Site, VisitorId = visitor, Timestamp = clock.GetUtcNow(), ReceivedAt = clock.GetUtcNow(),
    };

    private LiveVisit Visit(string id, int minutes) => new(id, clock.GetUtcNow().AddMinutes(minutes - 60), 1, "direct", null, null);

    private LiveVisitor Single(PresenceBoard board) => Assert.Single(board.Site(Site).Snapshot(clock.GetUtcNow()).Visitors);

    private static PresentVisitor Single(PresenceBoard board, string visitor)
    {
        var site = board.Site(Site);
        lock (site.Gate)
        {
            return site.Visitors[visitor];
        }
    }

    // Every change the ring still holds, oldest first.
    private static List<LiveChange> Changes(PresenceBoard board)
    {
        var site = board.Site(Site);
        var after = site.LastId;
        while (site.Read(after - 1, 1).Changes is not null)
        {
            after--;
        }

        return [.. site.Read(after, int.MaxValue).Changes!];
    }

    private static JsonElement Json(LiveChange change) => JsonDocument.Parse(change.Data).RootElement;
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset now = start;

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;
}
