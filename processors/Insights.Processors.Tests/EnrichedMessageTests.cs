using System.Text;
using Insights.Contracts;
using Insights.DevStack.Testing;
using static Insights.Processors.Tests.VisitTraffic;

namespace Insights.Processors.Tests;

/// <summary>
/// The <c>insights.enriched</c> contract per IP privacy mode: each message decoded as a presence reader would, with
/// exactly the IP that storage keeps and the raw user agent only where full IPs are kept.
/// </summary>
public sealed class EnrichedMessageTests(DevStackFixture stack)
{
    private static readonly DateTimeOffset At = new(2026, 11, 18, 8, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("Full", "139.48.1.1", "2601:600:abcd:1234::1", true)]
    [InlineData("Truncated", "139.48.1.0", "2601:600:abcd::", false)]
    [InlineData("None", null, null, false)]
    public async Task The_enriched_message_carries_the_ip_the_privacy_mode_allows_and_the_user_agent_only_with_full_ips(
        string mode, string? expectedV4, string? expectedV6, bool userAgent)
    {
        var pipeline = await Pipeline.CreateAsync(stack, "enriched-" + mode.ToLowerInvariant());
        var v4 = View("office", "/", At, AlbertaHealth);
        var v6 = View("home", "/", At, "2601:600:abcd:1234::1");
        await pipeline.ProduceAsync([v4, v6]);

        var settings = pipeline.Settings();
        settings["Enrichment:SiteIpStorage:demo"] = mode;
        await using var processor = new InProcessProcessor(settings);
        await processor.StartAsync();
        await pipeline.WaitForAsync(events: 2, sessions: 2, () => processor.Logs);

        var messages = pipeline.ReadLiveEvents(2, Eventually.Timeout).ToDictionary(e => e.Event.EventId, e => e.Line, StringComparer.Ordinal);
        Assert.Equal(2, messages.Count);
        var (office, home) = (LiveEventCodec.Decode(messages[v4.EventId]).Event!, LiveEventCodec.Decode(messages[v6.EventId]).Event!);

        Assert.Equal(expectedV4, office.Ip);
        Assert.Equal(expectedV6, home.Ip);
        Assert.Equal(userAgent ? Chrome : null, office.UserAgent);
        Assert.Equal(userAgent ? Chrome : null, home.UserAgent);
        // Everything else a presence reader needs is still there.
        Assert.Equal((v4.AnonymousId, v4.Url, v4.Timestamp), (office.VisitorId, office.Url, office.Timestamp));
        Assert.Equal("/", office.Path);
        Assert.NotNull(office.Visit?.SessionId);
        Assert.Equal(1, office.Visit!.PageViews);
        Assert.Equal("CA", office.Geo?.Country);
        Assert.Equal("Alberta Health Services", office.Company?.Name);
        Assert.StartsWith("alberta-health-services-", office.Company!.Id, StringComparison.Ordinal);
        Assert.Null(home.Company);
        Assert.Equal("Chrome", office.Device?.Browser);

        // Nowhere in the bytes either: not in a field this test did not think of.
        if (mode != "Full")
        {
            Assert.DoesNotContain("139.48.1.1", Encoding.UTF8.GetString(messages[v4.EventId]), StringComparison.Ordinal);
            Assert.DoesNotContain("1234::1", Encoding.UTF8.GetString(messages[v6.EventId]), StringComparison.Ordinal);
            Assert.DoesNotContain("Chrome/131", Encoding.UTF8.GetString(messages[v4.EventId]), StringComparison.Ordinal);
        }

        // The same IP as the events row: one privacy decision for storage and the stream.
        var stored = await pipeline.RowsAsync("SELECT event_id, toString(ip) AS ip FROM events FINAL WHERE ip IS NOT NULL");
        Assert.Equal(expectedV4 is null ? 0 : 2, stored.Count);
    }

    [Fact]
    public async Task Invitation_events_carry_their_ids_and_only_the_bounded_live_properties_leave_storage()
    {
        var pipeline = await Pipeline.CreateAsync(stack, "enriched-invitations");
        var answer = View("visitor", "/pricing", At, AlbertaHealth) with
        {
            Type = EventTypes.Track, Name = InvitationEvents.Accepted,
            Properties = System.Text.Json.JsonDocument.Parse(
                "{\"invitation_id\":\"r-1a2b\",\"rule_id\":\"pricing\",\"email\":\"ann@example.com\"," +
                "\"live\":{\"plan\":\"enterprise\",\"seats\":25,\"trial\":true,\"Bad Name\":\"x\",\"nested\":{\"a\":1},\"long\":\"" + new string('x', 300) + "\"}}").RootElement,
        };
        var hostile = View("visitor", "/pricing", At.AddSeconds(1), AlbertaHealth) with
        {
            Type = EventTypes.Track, Name = InvitationEvents.Declined,
            Properties = System.Text.Json.JsonDocument.Parse("{\"invitation_id\":\"<script>\",\"rule_id\":\"pricing\"}").RootElement,
        };
        await pipeline.ProduceAsync([answer, hostile]);

        await using var processor = new InProcessProcessor(pipeline.Settings());
        await processor.StartAsync();
        await pipeline.WaitForAsync(events: 2, sessions: 1, () => processor.Logs);

        var messages = pipeline.ReadLiveEvents(2, Eventually.Timeout).ToDictionary(e => e.Event.EventId, e => e.Line, StringComparer.Ordinal);
        var accepted = LiveEventCodec.Decode(messages[answer.EventId]).Event!;
        Assert.Equal(new LiveInvitation("r-1a2b", "pricing"), accepted.Invitation);
        Assert.Equal(new Dictionary<string, string> { ["plan"] = "enterprise", ["seats"] = "25", ["trial"] = "true" }, accepted.Properties);
        Assert.DoesNotContain("ann@example.com", Encoding.UTF8.GetString(messages[answer.EventId]), StringComparison.Ordinal);
        Assert.Null(LiveEventCodec.Decode(messages[hostile.EventId]).Event!.Invitation);
    }
}
