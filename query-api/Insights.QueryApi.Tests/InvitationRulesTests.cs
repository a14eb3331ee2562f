using System.Diagnostics.Metrics;
using System.Text.Json;
using Insights.Contracts;
using Insights.QueryApi.Companies;
using Insights.QueryApi.Live;
using Insights.QueryApi.Live.Invitations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Tests;

/// <summary>
/// Invitation rules on the presence state machine: what an agent watching the stream sees, and what a visitor's page is
/// offered, as events arrive and time passes. Storage and Kafka are the dev-stack tests' (<see cref="InvitationFlowTests"/>).
/// </summary>
public sealed class InvitationRulesTests
{
    private const string SiteId = "shop";
    private readonly ManualClock clock = new(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));

    public static TheoryData<string, string> ConditionKinds => new()
    {
        { """{"kind":"time_on_site","min":60}""", "time on site ≥ 60 s" },
        { """{"kind":"time_on_page","min":20}""", "time on page ≥ 20 s" },
        { """{"kind":"current_url","pattern":"/pricing*"}""", "on /pricing*" },
        { """{"kind":"visited_url","pattern":"/docs/*"}""", "visited /docs/*" },
        { """{"kind":"url_funnel","patterns":["/","/docs/*","/pricing*"]}""", "visited / → /docs/* → /pricing*" },
        { """{"kind":"pages_viewed","min":3}""", "3+ pages viewed" },
        { """{"kind":"visits","min":2}""", "2+ visits" },
        { """{"kind":"referrer","pattern":"https://www.google.*/*"}""", "came from https://www.google.*/*" },
        { """{"kind":"channel","values":["paid"]}""", "channel paid" },
        { """{"kind":"campaign","values":["Spring-Sale"]}""", "campaign Spring-Sale" },
        { """{"kind":"search_keyword","values":["crm"]}""", "searched crm" },
        { """{"kind":"country","values":["de"]}""", "in de" },
        { """{"kind":"city","values":["München"]}""", "in München" },
        { """{"kind":"device","values":["mobile"]}""", "on mobile" },
        { """{"kind":"company_identified"}""", "company identified" },
        { """{"kind":"target_account"}""", "target account" },
        { """{"kind":"lead_score","min":20}""", "lead score ≥ 20" },
        { """{"kind":"exit_intent"}""", "about to leave" },
        { """{"kind":"property","property":"plan","values":["enterprise"]}""", "plan is enterprise" },
    };

    [Theory]
    [MemberData(nameof(ConditionKinds))]
    public void Each_condition_kind_suggests_the_visitor_only_once_it_holds(string condition, string reason)
    {
        var (board, _) = Presence(Rule("r1", InvitationActions.Suggest, condition));

        // A first visit, direct, from an ISP on a desktop in Paris: none of the conditions holds yet.
        board.Apply(View("v1", "/", "e1", visit: new LiveVisit("s1", clock.GetUtcNow(), 1, "direct", null, null)) with
        {
            Company = null, Geo = new LiveGeo("FR", null, "Paris"), Device = new LiveDevice("desktop", "Firefox", "Linux"),
        });
        Assert.Empty(Single(board).Suggestions);
        Assert.DoesNotContain(Changes(board), c => c.Event == LiveEventNames.InvitationSuggested);

        // The same visitor on a second visit that meets every condition at once.
        clock.Advance(TimeSpan.FromSeconds(5));
        var paid = new LiveVisit("s2", clock.GetUtcNow(), 1, "paid", "https://www.google.de/search", new LiveCampaign("google", "cpc", "spring-sale", "best CRM tools", null));
        board.Apply(View("v1", "/", "e2", visit: paid) with { Properties = new Dictionary<string, string> { ["plan"] = "Enterprise" } });
        board.Apply(View("v1", "/docs/start", "e3", visit: paid with { PageViews = 2 }));
        board.Apply(View("v1", "/pricing", "e4", visit: paid with { PageViews = 3 }) with
        {
            Company = new LiveCompany("acme-1", "Acme", "eu.acme.example"), Geo = new LiveGeo("DE", "Bayern", "München"), Device = new LiveDevice("mobile", "Safari", "iOS"),
        });
        board.SetVisits(SiteId, "v1", 2);
        board.Apply(Event("v1", EventTypes.Track, "e5", paid) with { Name = InvitationEvents.ExitIntent });
        clock.Advance(TimeSpan.FromSeconds(61));
        board.Sweep();

        var suggestion = Assert.Single(Single(board).Suggestions);
        Assert.Equal(("r1", "Rule r1", reason), (suggestion.Rule, suggestion.Name, suggestion.Reason));
        var published = Assert.Single(Changes(board), c => c.Event == LiveEventNames.InvitationSuggested);
        Assert.Equal(("v1", "r1", reason), (Json(published).GetProperty("visitorId").GetString(), Json(published).GetProperty("rule").GetString(),
            Json(published).GetProperty("reason").GetString()));
    }

    [Fact]
    public void All_and_any_nest_and_the_reason_says_which_held()
    {
        var (board, _) = Presence(Rule("r1", InvitationActions.Suggest,
            """{"all":[{"kind":"current_url","pattern":"/pricing"},{"any":[{"kind":"target_account"},{"kind":"lead_score","min":90}]}]}"""));
        board.Apply(View("outsider", "/pricing", "e1") with { Company = new LiveCompany("x-1", "Other", "other.example") });
        board.Apply(View("target", "/", "e2"));
        Assert.All(Snapshot(board), v => Assert.Empty(v.Suggestions));

        board.Apply(View("target", "/pricing", "e3"));

        Assert.Empty(Snapshot(board).Single(v => v.VisitorId == "outsider").Suggestions);
        Assert.Equal("on /pricing and (target account or lead score ≥ 90)",
            Assert.Single(Snapshot(board).Single(v => v.VisitorId == "target").Suggestions).Reason);
    }

    [Fact]
    public async Task An_auto_invitation_is_sent_once_per_visit_offered_to_the_connected_page_recorded_and_the_chat_state_is_invited()
    {
        var (board, presence) = Presence(Rule("pricing", InvitationActions.AutoInvite, """{"kind":"time_on_page","min":30}""", "Fragen? 質問"));
        using var page = new CancellationTokenSource();
        await using var offered = presence.Invitations.Listen(SiteId, "v1", page.Token).GetAsyncEnumerator(page.Token);
        var next = offered.MoveNextAsync();
        var visit = new LiveVisit("s1", clock.GetUtcNow(), 1, "direct", null, null);
        board.Apply(View("v1", "/pricing", "e1", visit: visit));
        presence.KnowDeclines(board);

        clock.Advance(TimeSpan.FromSeconds(29));
        board.Sweep();
        Assert.Equal(ChatStates.Browsing, Single(board).ChatState);

        clock.Advance(TimeSpan.FromSeconds(1));
        board.Sweep();
        clock.Advance(TimeSpan.FromSeconds(10));
        board.Sweep();

        Assert.Equal(ChatStates.Invited, Single(board).ChatState);
        var sent = Assert.Single(Changes(board), c => c.Event == LiveEventNames.InvitationSent);
        var id = Json(sent).GetProperty("invitationId").GetString()!;
        Assert.Equal(("pricing", "Fragen? 質問", "invited"), (Json(sent).GetProperty("rule").GetString(), Json(sent).GetProperty("message").GetString(),
            Json(sent).GetProperty("chatState").GetString()));
        Assert.True(await next.AsTask().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.Equal((id, "pricing", "Fragen? 質問"), (offered.Current.Id, offered.Current.Rule, offered.Current.Message));

        var recorded = Assert.Single(presence.Recorded());
        Assert.Equal((EventTypes.Track, InvitationEvents.Sent, "v1", $"invitation_sent:{id}"), (recorded.Type, recorded.Name, recorded.AnonymousId, recorded.EventId));
        Assert.Equal(id, recorded.Properties!.Value.GetProperty("invitation_id").GetString());
        Assert.Equal("pricing", recorded.Properties!.Value.GetProperty("rule_id").GetString());

        // The recorded event comes back through the topic (from this instance and every other): nothing happens twice.
        board.Apply(Event("v1", EventTypes.Track, $"invitation_sent:{id}", visit) with { Name = InvitationEvents.Sent, Invitation = new LiveInvitation(id, "pricing", "Fragen? 質問") });
        Assert.Single(Changes(board), c => c.Event == LiveEventNames.InvitationSent);
        await page.CancelAsync();
    }

    [Fact]
    public void Nothing_fires_while_the_visitor_chats_and_a_decline_pauses_the_rule_for_its_days()
    {
        var (board, presence) = Presence(Rule("help", InvitationActions.AutoInvite, """{"kind":"pages_viewed","min":1}""", "Hi", cooldownDays: 3));
        var first = new LiveVisit("s1", clock.GetUtcNow(), 1, "direct", null, null);
        board.Apply(Event("v1", EventTypes.ChatStarted, "c1", first) with { ChatId = "chat-1" });
        presence.KnowDeclines(board);
        board.Apply(View("v1", "/", "e1", visit: first));
        board.Sweep();
        Assert.Equal(ChatStates.Chatting, Single(board).ChatState);
        Assert.Empty(presence.Recorded());

        // The next visit: invited, declined.
        clock.Advance(TimeSpan.FromMinutes(1));
        var second = new LiveVisit("s2", clock.GetUtcNow(), 1, "direct", null, null);
        board.Apply(Event("v1", EventTypes.ChatEnded, "c2", first) with { ChatId = "chat-1" });
        board.Apply(View("v1", "/", "e2", visit: second));
        var invitation = Assert.Single(presence.Recorded());
        Assert.Equal(ChatStates.Invited, Single(board).ChatState);
        var id = invitation.Properties!.Value.GetProperty("invitation_id").GetString()!;
        board.Apply(Event("v1", EventTypes.Track, "d1", second) with { Name = InvitationEvents.Declined, Invitation = new LiveInvitation(id, "help") });
        Assert.Equal(ChatStates.Browsing, Single(board).ChatState);
        Assert.Contains(Changes(board), c => c.Event == LiveEventNames.InvitationDeclined && Json(c).GetProperty("invitationId").GetString() == id);

        // Two days later, a new visit: still paused. Four days later: invited again, with the new visit's id.
        clock.Advance(TimeSpan.FromDays(2));
        board.Apply(View("v1", "/", "e3", visit: new LiveVisit("s3", clock.GetUtcNow(), 1, "direct", null, null)));
        Assert.Empty(presence.Recorded());
        clock.Advance(TimeSpan.FromDays(2));
        board.Apply(View("v1", "/", "e4", visit: new LiveVisit("s4", clock.GetUtcNow(), 1, "direct", null, null)));
        Assert.NotEqual(id, Assert.Single(presence.Recorded()).Properties!.Value.GetProperty("invitation_id").GetString());
    }

    [Fact]
    public void An_auto_invitation_waits_until_the_visitors_declines_are_known()
    {
        var (board, presence) = Presence(Rule("help", InvitationActions.AutoInvite, """{"kind":"pages_viewed","min":1}""", "Hi", cooldownDays: 0));
        board.Apply(View("v1", "/", "e1"));
        board.Sweep();
        Assert.Empty(presence.Recorded());

        presence.KnowDeclines(board);
        board.Sweep();
        Assert.Single(presence.Recorded());
    }

    [Fact]
    public void Two_instances_fed_the_same_events_decide_the_same_invitations_with_the_same_ids()
    {
        var rules = new[]
        {
            Rule("suggest", InvitationActions.Suggest, """{"kind":"visited_url","pattern":"/docs/*"}"""),
            Rule("invite", InvitationActions.AutoInvite, """{"all":[{"kind":"pages_viewed","min":2},{"kind":"time_on_site","min":10}]}""", "Hallo"),
        };
        var outcomes = new List<(string[] Events, string[] Ids)>();
        foreach (var _ in new[] { 1, 2 })
        {
            var (board, presence) = Presence(rules);
            var visit = new LiveVisit("s1", clock.GetUtcNow(), 1, "direct", null, null);
            board.Apply(View("v1", "/", "e1", visit: visit));
            presence.KnowDeclines(board);
            board.Apply(View("v1", "/docs/a", "e2", visit: visit with { PageViews = 2 }));
            board.Sweep();
            clock.Advance(TimeSpan.FromSeconds(11));
            board.Sweep();
            board.Sweep();
            clock.Advance(TimeSpan.FromSeconds(-11));
            outcomes.Add(([.. Changes(board).Select(c => c.Event)], [.. presence.Recorded().Select(e => e.EventId)]));
        }

        Assert.Equal(outcomes[0].Events, outcomes[1].Events);
        Assert.Equal(outcomes[0].Ids, outcomes[1].Ids);
        Assert.Contains(LiveEventNames.InvitationSuggested, outcomes[0].Events);
        Assert.Single(outcomes[0].Ids);
    }

    [Fact]
    public void Rules_follow_the_site_catalog_without_a_restart_and_inactive_rules_do_nothing()
    {
        var (board, presence) = Presence(Rule("later", InvitationActions.Suggest, "{}", activeFrom: clock.GetUtcNow().AddHours(1)));
        board.Apply(View("v1", "/", "e1"));
        Assert.Empty(Single(board).Suggestions);

        board.Sweep();
        presence.Catalog.Replace([new SiteOptions { Id = SiteId, Invitations = [Rule("now", InvitationActions.Suggest, """{"kind":"company_identified"}""")] }], []);
        Assert.Empty(Single(board).Suggestions);

        // No event needed: the next tick checks every rule against the new settings (a tick checks only the rules that
        // watch the clock while the settings stand).
        board.Sweep();
        Assert.Equal("now", Assert.Single(Single(board).Suggestions).Rule);
        board.Apply(View("v1", "/a", "e2"));
        Assert.Equal("now", Assert.Single(Single(board).Suggestions).Rule);
    }

    [Fact]
    public void A_tick_fires_a_rule_when_only_time_moved_and_only_that_rule()
    {
        var (board, presence) = Presence(
            Rule("stay", InvitationActions.Suggest, """{"all":[{"kind":"current_url","pattern":"/pricing"},{"kind":"time_on_page","min":20}]}"""),
            Rule("pricing", InvitationActions.Suggest, """{"kind":"current_url","pattern":"/pricing"}"""));
        board.Apply(View("v1", "/pricing", "e1"));
        Assert.Equal(["pricing"], Single(board).Suggestions.Select(s => s.Rule));

        clock.Advance(TimeSpan.FromSeconds(21));
        board.Sweep();
        clock.Advance(TimeSpan.FromSeconds(-21));
        Assert.Equal(["pricing", "stay"], Single(board).Suggestions.Select(s => s.Rule));
        Assert.Empty(presence.Recorded());
    }

    [Fact]
    public void An_agents_invitation_from_the_topic_is_offered_published_and_answered()
    {
        var (board, presence) = Presence();
        board.Apply(View("v1", "/", "e1"));
        board.Apply(Event("v1", EventTypes.Track, "a1") with { Name = InvitationEvents.Sent, Invitation = new LiveInvitation("a-1", null, "Can I help?") });
        board.Apply(Event("v1", EventTypes.Track, "a2") with { Name = InvitationEvents.Shown, Invitation = new LiveInvitation("a-1", null) });
        board.Apply(Event("v1", EventTypes.Track, "a3") with { Name = InvitationEvents.Accepted, Invitation = new LiveInvitation("a-1", null) });

        Assert.Equal(ChatStates.Invited, Single(board).ChatState);
        // The site has no rules: its visitors carry no invitation memory until an invitation concerns them.
        board.Apply(View("v2", "/", "e2"));
        lock (board.Site(SiteId).Gate)
        {
            Assert.Null(board.Site(SiteId).Visitors["v2"].Invitations);
            Assert.NotNull(board.Site(SiteId).Visitors["v1"].Invitations);
        }

        var names = Changes(board).Select(c => c.Event).Where(n => n.StartsWith("invitation_", StringComparison.Ordinal));
        Assert.Equal([LiveEventNames.InvitationSent, LiveEventNames.InvitationShown, LiveEventNames.InvitationAccepted], names);
        Assert.Empty(presence.Recorded());
    }

    private (PresenceBoard Board, Instance Presence) Presence(params InvitationRule[] rules)
    {
        var catalog = new SiteCatalog([new SiteOptions { Id = SiteId, TargetAccounts = ["acme.example"], Invitations = [.. rules] }]);
        var recorder = new InvitationRecorder(Options.Create(new InvitationOptions()), new ConfigurationBuilder().Build(), NullLogger<InvitationRecorder>.Instance);
        var invitations = new VisitorInvitations();
        var watcher = new InvitationWatcher(catalog, invitations, recorder);
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var board = new PresenceBoard(Options.Create(new LiveOptions()), Options.Create(new LeadScoreOptions()), clock, new LiveMetrics(meters), [watcher]);
        board.MarkReady();
        // The site's stream is open, as an agent's live page would have it: its changes are kept (SitePresence).
        board.Site(SiteId).Follow();
        return (board, new Instance(catalog, recorder, invitations));
    }

    private static InvitationRule Rule(string id, string action, string when, string? message = null, int cooldownDays = 7, DateTimeOffset? activeFrom = null) => new()
    {
        Id = id, Name = $"Rule {id}", Action = action, Message = message, DeclineCooldownDays = cooldownDays, ActiveFrom = activeFrom,
        When = JsonSerializer.Deserialize<InvitationCondition>(when, JsonSerializerOptions.Web)!,
    };

    private LiveEvent View(string visitor, string path, string id, LiveVisit? visit = null) => Event(visitor, EventTypes.Pageview, id, visit) with
    {
        Url = "https://shop.example" + path, Path = path, Title = "Title",
        Company = new LiveCompany("acme-1a2b3c4d", "Acme", "acme.example"),
        Geo = new LiveGeo("DE", "Berlin", "Berlin"),
        Device = new LiveDevice("desktop", "Chrome", "Windows"),
    };

    private LiveEvent Event(string visitor, string type, string id, LiveVisit? visit = null) => new()
    {
        EventId = id, Type = type, SiteId = SiteId, VisitorId = visitor, Timestamp = clock.GetUtcNow(), ReceivedAt = clock.GetUtcNow(), Visit = visit,
    };

    private List<LiveVisitor> Snapshot(PresenceBoard board) => board.Site(SiteId).Snapshot(clock.GetUtcNow()).Visitors;

    private LiveVisitor Single(PresenceBoard board) => Assert.Single(Snapshot(board));

    private static List<LiveChange> Changes(PresenceBoard board)
    {
        var site = board.Site(SiteId);
        var after = site.LastId;
        while (site.Read(after - 1, 1).Changes is not null)
        {
            after--;
        }

        return [.. site.Read(after, int.MaxValue).Changes!];
    }

    private static JsonElement Json(LiveChange change) => JsonDocument.Parse(change.Data).RootElement;

    /// <summary>One query-API instance's invitation parts.</summary>
    private sealed record Instance(SiteCatalog Catalog, InvitationRecorder Recorder, VisitorInvitations Invitations)
    {
        /// <summary>Events queued for Kafka since the last call.</summary>
        public List<PipelineEvent> Recorded()
        {
            var taken = new List<PipelineEvent>();
            while (Recorder.Queue.TryRead(out var e))
            {
                taken.Add(e);
            }

            return taken;
        }

        /// <summary>What the worker's storage lookup does when a visitor has no declines: the pause rules may go on.</summary>
        public void KnowDeclines(PresenceBoard board)
        {
            var site = board.Site(SiteId);
            foreach (var visitor in site.Visitors.Values)
            {
                visitor.Invitations!.DeclinesKnown = true;
            }
        }
    }
}
