using Insights.Contracts;
using Insights.Ingest.Privacy;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Tests.Unit;

/// <summary>Cookieless visitor ids: one per browser, network and site for a day, unlinkable to the next day's.</summary>
public sealed class CookielessVisitorIdsTests
{
    private const string Chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36";
    private const string Firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
    private const string Seed = "a-seed-of-at-least-thirty-two-characters";

    private readonly ManualClock clock = new(new DateTimeOffset(2026, 3, 14, 0, 0, 1, TimeSpan.Zero));

    [Fact]
    public void A_visitor_keeps_one_id_all_day()
    {
        var ids = Ids();
        var morning = ids.Derive("demo", "203.0.113.9", Chrome);
        clock.Now = clock.Now.AddHours(23).AddMinutes(59);
        Assert.Equal(morning, ids.Derive("demo", "203.0.113.9", Chrome));
        Assert.Matches("^c-[A-Za-z0-9_-]{22}$", morning);
    }

    [Fact]
    public void Another_site_browser_or_network_is_another_visitor()
    {
        var ids = Ids();
        var visitor = ids.Derive("demo", "203.0.113.9", Chrome);
        string[] others =
        [
            ids.Derive("other", "203.0.113.9", Chrome),
            ids.Derive("demo", "203.0.113.10", Chrome),
            ids.Derive("demo", "2001:db8::9", Chrome),
            ids.Derive("demo", "203.0.113.9", Firefox),
            ids.Derive("demo", null, Chrome),
            ids.Derive("demo", "203.0.113.9", null),
            // The parts are separated: moving characters from one part to the next is another input.
            ids.Derive("dem", "o203.0.113.9", Chrome),
        ];
        Assert.DoesNotContain(visitor, others);
        Assert.Equal(others.Length, others.Distinct().Count());
    }

    [Fact]
    public void The_salt_rotates_at_midnight_utc()
    {
        var ids = Ids();
        clock.Now = new DateTimeOffset(2026, 3, 14, 23, 59, 59, TimeSpan.Zero);
        var today = ids.Derive("demo", "203.0.113.9", Chrome);
        clock.Now = clock.Now.AddSeconds(1);
        var tomorrow = ids.Derive("demo", "203.0.113.9", Chrome);
        Assert.NotEqual(today, tomorrow);
        clock.Now = clock.Now.AddDays(1);
        Assert.NotEqual(tomorrow, ids.Derive("demo", "203.0.113.9", Chrome));
    }

    [Fact]
    public void Without_a_seed_each_process_draws_its_own_salt()
    {
        // Nothing outside this process can recompute the salt; the price is that another instance disagrees.
        Assert.NotEqual(Ids().Derive("demo", "203.0.113.9", Chrome), Ids().Derive("demo", "203.0.113.9", Chrome));
    }

    [Fact]
    public void With_a_seed_every_instance_agrees_and_still_rotates_daily()
    {
        var first = Ids(Seed);
        var second = Ids(Seed);
        Assert.Equal(first.Derive("demo", "203.0.113.9", Chrome), second.Derive("demo", "203.0.113.9", Chrome));
        Assert.NotEqual(first.Derive("demo", "203.0.113.9", Chrome), Ids(Seed + "-rotated").Derive("demo", "203.0.113.9", Chrome));

        var today = first.Derive("demo", "203.0.113.9", Chrome);
        clock.Now = clock.Now.AddDays(1);
        Assert.NotEqual(today, second.Derive("demo", "203.0.113.9", Chrome));
    }

    [Fact]
    public void Applying_replaces_the_visitor_id_of_every_event_in_the_batch()
    {
        var ids = Ids();
        var events = new List<PipelineEvent>
        {
            Event("stored-id-from-an-old-snippet", null),
            Event(null, "customer-9"),
        };
        ids.Apply(events, "demo", "203.0.113.9", Chrome);

        var expected = ids.Derive("demo", "203.0.113.9", Chrome);
        Assert.All(events, e => Assert.Equal(expected, e.AnonymousId));
        Assert.Equal("customer-9", events[1].UserId);
    }

    private CookielessVisitorIds Ids(string? seed = null) =>
        new(clock, Options.Create(new PrivacyOptions { CookielessSeed = seed }));

    private static PipelineEvent Event(string? anonymousId, string? userId) => new()
    {
        EventId = Guid.NewGuid().ToString(),
        Type = EventTypes.Track,
        SiteId = "demo",
        AnonymousId = anonymousId,
        UserId = userId,
        Name = "x",
        Timestamp = DateTimeOffset.UnixEpoch,
        ReceivedAt = DateTimeOffset.UnixEpoch,
    };

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
