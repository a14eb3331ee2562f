using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Insights.Contracts;
using Insights.QueryApi.Companies;
using Insights.QueryApi.Live;
using Insights.QueryApi.Live.Alerts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Tests;

/// <summary>
/// The rules on their own: when each kind fires (once per visit), the address policy, the signature a receiver checks,
/// the retry schedule, the payload bound and the checks a rule list must pass.
/// </summary>
public sealed class AlertRuleTests
{
    private const string Site = "shop";
    private static readonly AlertDestination Hook = new() { Id = "hook", Kind = AlertKinds.Webhook, Url = "https://1.1.1.1/", Secret = "iws_0123456789abcdef" };
    private readonly ManualClock clock = new(DateTimeOffset.UtcNow);

    [Fact]
    public void A_lead_score_rule_fires_once_when_the_visit_crosses_the_score_and_again_in_the_next_visit()
    {
        var (board, queue) = Board(new AlertRule { Id = "hot", Kind = AlertKinds.LeadScore, MinScore = 20, Destinations = [Hook] });

        board.Apply(View("v1", "s1", "/", "e1"));
        Assert.False(queue.Reader.TryRead(out _));
        board.Apply(View("v1", "s1", "/pricing", "e2"));
        board.Apply(View("v1", "s1", "/pricing/team", "e3"));
        board.Apply(View("v1", "s1", "/checkout", "e4"));

        Assert.True(queue.Reader.TryRead(out var fired));
        Assert.Equal("lead score 24 reached 20", fired.Payload.Reason);
        Assert.Equal(("s1", "/pricing"), (fired.SessionId, fired.Payload.Visitor.Page!.Path));
        Assert.Equal([("hook", "webhook")], fired.Destinations);
        Assert.False(queue.Reader.TryRead(out _));

        board.Apply(View("v1", "s2", "/pricing", "e5") with { Visit = new LiveVisit("s2", clock.GetUtcNow(), 2, null, null, null) });
        Assert.True(queue.Reader.TryRead(out var next));
        Assert.NotEqual(fired.Payload.Id, next.Payload.Id);
        Assert.Equal(2, Alerts(board).Count);
    }

    [Fact]
    public void A_returning_high_intent_rule_waits_for_the_visit_count_and_fires_on_an_intent_page_or_a_high_score()
    {
        var (board, queue) = Board(new AlertRule
        {
            Id = "back", Kind = AlertKinds.ReturningHighIntent, MinScore = 90, IntentPaths = ["/Demo"], Destinations = [Hook],
        });
        board.MarkReady();

        board.Apply(View("new", "s1", "/demo/book", "e1"));
        board.Apply(View("returning", "s2", "/demonstration", "e2"));
        board.Apply(View("returning", "s2", "/demo", "e3"));
        board.Sweep();
        Assert.False(queue.Reader.TryRead(out _)); // visits not known yet

        board.SetVisits(Site, "new", 1);
        board.SetVisits(Site, "returning", 3);
        board.Sweep(); // the second's tick sees the visit count

        Assert.True(queue.Reader.TryRead(out var fired));
        Assert.Equal("returning", fired.Payload.Visitor.VisitorId);
        Assert.Equal("visit 3, on the high-intent page /demo", fired.Payload.Reason);
        board.Sweep();
        Assert.False(queue.Reader.TryRead(out _));
    }

    [Fact]
    public void A_target_account_rule_matches_the_company_domain_and_its_subdomains_only_and_a_disabled_rule_never_fires()
    {
        var (board, queue) = Board(
            new AlertRule { Id = "target", Kind = AlertKinds.TargetAccount, Destinations = [Hook] },
            new AlertRule { Id = "off", Kind = AlertKinds.TargetAccount, Enabled = false, Destinations = [Hook] });

        board.Apply(View("a", "s1", "/", "e1", new LiveCompany("c1", "Acme EU", "eu.acme.example")));
        board.Apply(View("b", "s2", "/", "e2", new LiveCompany("c2", "Not Acme", "notacme.example")));
        board.Apply(View("c", "s3", "/", "e3", null));
        board.Apply(View("d", "s4", "/", "e4", new LiveCompany("c4", "Acme", "acme.example")) with { SiteId = "other" });

        Assert.True(queue.Reader.TryRead(out var fired));
        Assert.Equal(("a", "target", "Acme EU (eu.acme.example) is on the target-account list"),
            (fired.Payload.Visitor.VisitorId, fired.Payload.Rule.Id, fired.Payload.Reason));
        Assert.False(queue.Reader.TryRead(out _));
        var shown = JsonDocument.Parse(Assert.Single(Alerts(board)).Data).RootElement;
        Assert.Equal(fired.Payload.Id, shown.GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("1.1.1.1", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.0.0.8", false)]
    [InlineData("172.31.255.1", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::1", false)]
    [InlineData("::", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd12:3456::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("64:ff9b::a9fe:a9fe", false)]
    [InlineData("ff02::1", false)]
    public void Only_public_unicast_addresses_may_receive_alerts(string address, bool allowed) =>
        Assert.Equal(allowed, AlertAddresses.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public async Task Saved_destinations_must_be_public_https_unless_private_addresses_are_allowed()
    {
        Assert.Null(await AlertAddresses.ProblemAsync("https://1.1.1.1/hook", allowPrivate: false, TestContext.Current.CancellationToken));
        Assert.Equal("must be https", await AlertAddresses.ProblemAsync("http://1.1.1.1/hook", false, TestContext.Current.CancellationToken));
        Assert.Contains("loopback, private", await AlertAddresses.ProblemAsync("https://localhost/", false, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Contains("credentials", await AlertAddresses.ProblemAsync("https://a:b@1.1.1.1/", false, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Null(await AlertAddresses.ProblemAsync("http://127.0.0.1:9/hook", allowPrivate: true, TestContext.Current.CancellationToken));
        Assert.NotNull(await AlertAddresses.ProblemAsync("file:///etc/passwd", allowPrivate: true, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void The_signature_is_the_HMAC_SHA256_of_time_dot_body_and_fails_for_another_body_secret_or_an_old_time()
    {
        var body = Encoding.UTF8.GetBytes("{\"id\":\"al_1\",\"name\":\"Zoë — 価格\"}");
        var now = DateTimeOffset.FromUnixTimeSeconds(1_780_000_000);
        var header = AlertSignature.Create("iws_secret", now.ToUnixTimeSeconds(), body);

        var expected = Convert.ToHexStringLower(HMACSHA256.HashData("iws_secret"u8, [.. "1780000000."u8, .. body]));
        Assert.Equal($"t=1780000000,v1={expected}", header);
        Assert.True(AlertSignature.Verify(header, "iws_secret", body, now.AddSeconds(30), TimeSpan.FromMinutes(5)));
        Assert.False(AlertSignature.Verify(header, "iws_secret", [.. body, (byte)' '], now, TimeSpan.FromMinutes(5)));
        Assert.False(AlertSignature.Verify(header, "iws_other", body, now, TimeSpan.FromMinutes(5)));
        Assert.False(AlertSignature.Verify(header, "iws_secret", body, now.AddMinutes(6), TimeSpan.FromMinutes(5)));
        Assert.False(AlertSignature.Verify("t=1780000000", "iws_secret", body, now, TimeSpan.FromMinutes(5)));
        Assert.False(AlertSignature.Verify(null, "iws_secret", body, now, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Retries_wait_twice_as_long_each_time_within_half_and_all_of_the_step_up_to_the_cap()
    {
        var options = new AlertOptions { RetryDelay = TimeSpan.FromSeconds(30), MaxRetryDelay = TimeSpan.FromHours(1) };
        Assert.Equal(TimeSpan.FromSeconds(15), AlertDeliveryWorker.Backoff(options, 1, 0));
        Assert.Equal(TimeSpan.FromSeconds(30), AlertDeliveryWorker.Backoff(options, 1, 1));
        Assert.Equal(TimeSpan.FromSeconds(120), AlertDeliveryWorker.Backoff(options, 3, 1));
        Assert.Equal(TimeSpan.FromMinutes(30), AlertDeliveryWorker.Backoff(options, 12, 0));
        Assert.Equal(TimeSpan.FromHours(1), AlertDeliveryWorker.Backoff(options, 40, 1));
    }

    [Fact]
    public void A_payload_over_the_bound_loses_the_page_list_first_and_stays_within_it()
    {
        var (board, queue) = Board(new AlertRule { Id = "target", Kind = AlertKinds.TargetAccount, Destinations = [Hook] });
        board.Apply(View("v1", "s1", "/", "e1", new LiveCompany("c1", "Acme", "acme.example")));
        Assert.True(queue.Reader.TryRead(out var fired));
        var big = fired.Payload with { Visitor = fired.Payload.Visitor with { Pages = [.. Enumerable.Repeat(new string('p', 400), 50)] } };
        Assert.True(Encoding.UTF8.GetByteCount(AlertClaimer.Bounded(big, 1024 * 1024)!) > 8 * 1024);
        var bounded = AlertClaimer.Bounded(big, 8 * 1024)!;
        Assert.True(Encoding.UTF8.GetByteCount(bounded) <= 8 * 1024);
        Assert.Empty(JsonDocument.Parse(bounded).RootElement.GetProperty("visitor").GetProperty("pages").EnumerateArray());
        Assert.Null(AlertClaimer.Bounded(fired.Payload with { Reason = new string('r', 9000) }, 8 * 1024));
    }

    [Fact]
    public void Rule_lists_are_checked_and_bounded()
    {
        static List<string> Check(params AlertRule[] rules) => [.. AlertKinds.Check(rules, "settings")];
        AlertRule Rule(string id = "r", string kind = AlertKinds.TargetAccount, params AlertDestination[] destinations) =>
            new() { Id = id, Kind = kind, Destinations = destinations.Length == 0 ? [Hook] : [.. destinations] };

        var scored = Rule("s", AlertKinds.LeadScore);
        scored.MinScore = 50;
        Assert.Empty(Check(Rule(), scored));
        Assert.Contains("at most 20 rules", Assert.Single(Check([.. Enumerable.Range(0, 21).Select(i => Rule($"r{i}"))])), StringComparison.Ordinal);
        Assert.Contains("settings:Alerts:0:Id", Assert.Single(Check(Rule("Règle"))), StringComparison.Ordinal);
        Assert.Contains("used twice", Assert.Single(Check(Rule(), Rule())), StringComparison.Ordinal);
        Assert.Contains("MinScore", Assert.Single(Check(Rule(kind: AlertKinds.LeadScore))), StringComparison.Ordinal);
        Assert.Contains("Kind", Assert.Single(Check(Rule(kind: "everything"))), StringComparison.Ordinal);
        Assert.Contains("1 to 5", Assert.Single(Check(Rule(destinations: [.. Enumerable.Range(0, 6).Select(i => new AlertDestination
        {
            Id = $"d{i}", Kind = AlertKinds.Slack, Url = "https://1.1.1.1/",
        })]))), StringComparison.Ordinal);
        Assert.Contains("signing secret", Assert.Single(Check(Rule(destinations: new AlertDestination { Id = "d", Kind = AlertKinds.Webhook, Url = "https://1.1.1.1/" }))),
            StringComparison.Ordinal);
        Assert.Contains("Url", Assert.Single(Check(Rule(destinations: new AlertDestination { Id = "d", Kind = AlertKinds.Slack, Url = "https://1.1.1.1/" + new string('a', 2100) }))),
            StringComparison.Ordinal);
        Assert.Contains("IntentPaths", Assert.Single(Check(new AlertRule { Id = "r", Kind = AlertKinds.ReturningHighIntent, IntentPaths = ["pricing"], Destinations = [Hook] })),
            StringComparison.Ordinal);
        Assert.Contains("settings:Alerts", string.Join(";", SiteValidation.Check(new SiteOptions { Id = "shop", Alerts = [Rule(kind: "x")] }, "settings")),
            StringComparison.Ordinal);
    }

    private (PresenceBoard Board, AlertQueue Queue) Board(params AlertRule[] rules)
    {
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var options = Options.Create(new AlertOptions());
        var queue = new AlertQueue(options);
        var catalog = new SiteCatalog([new SiteOptions { Id = Site, TargetAccounts = ["acme.example"], Alerts = [.. rules] }, new SiteOptions { Id = "other" }]);
        var watcher = new AlertWatcher(catalog, queue, new AlertMetrics(meters), options);
        var board = new PresenceBoard(Options.Create(new LiveOptions()), Options.Create(new LeadScoreOptions()), clock, new LiveMetrics(meters), [watcher]);
        // The site's stream is open, as an agent's live page would have it: its changes are kept (SitePresence).
        board.Site(Site).Follow();
        return (board, queue);
    }

    private LiveEvent View(string visitor, string session, string path, string id, LiveCompany? company = null) => new()
    {
        EventId = id, Type = EventTypes.Pageview, SiteId = Site, VisitorId = visitor, Timestamp = clock.GetUtcNow(), ReceivedAt = clock.GetUtcNow(),
        Visit = new LiveVisit(session, clock.GetUtcNow().AddMinutes(-1), 0, "direct", null, null),
        Url = "https://shop.example" + path, Path = path, Title = "Title", Company = company,
    };

    private static List<LiveChange> Alerts(PresenceBoard board) =>
        [.. (board.Site(Site).Read(board.FirstId - 1, int.MaxValue).Changes ?? []).Where(c => c.Event == AlertPayload.EventName)];
}
