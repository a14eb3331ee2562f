using Insights.QueryApi.Live;

namespace Insights.QueryApi.Tests;

/// <summary>
/// The hand-off between page loads: a rule fires on the page view that is also unloading the old page, so the visitor's
/// channel is often closed at that instant; the invitation must wait for the next page's channel, briefly.
/// </summary>
public sealed class VisitorInvitationsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task An_invitation_offered_between_two_pages_reaches_the_next_pages_channel()
    {
        var clock = new ManualClock(Start);
        var invitations = new VisitorInvitations(clock);
        var invitation = new VisitorInvitation("r-1", "shop", "v1", "pricing", "Fragen? 🥨", Start);

        Assert.False(invitations.Offer(invitation));
        clock.Advance(TimeSpan.FromSeconds(5));

        using var page = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var next = invitations.Listen("shop", "v1", page.Token).GetAsyncEnumerator(page.Token);
        Assert.True(await next.MoveNextAsync());
        Assert.Equal(invitation, next.Current);
    }

    [Fact]
    public async Task A_held_invitation_goes_only_to_its_own_visitor_and_not_after_the_hold()
    {
        var clock = new ManualClock(Start);
        var invitations = new VisitorInvitations(clock);
        invitations.Offer(new VisitorInvitation("r-1", "shop", "v1", "pricing", "Hello", Start));
        invitations.Offer(new VisitorInvitation("r-2", "shop", "v2", "pricing", "Hello", Start));

        using (var other = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            // Another visitor of the same site (and the same visitor id on another site) gets nothing of v1's.
            await using var wrongSite = invitations.Listen("other-shop", "v1", other.Token).GetAsyncEnumerator(other.Token);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wrongSite.MoveNextAsync());
        }

        clock.Advance(VisitorInvitations.HoldFor + TimeSpan.FromSeconds(1));
        using var late = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await using var tooLate = invitations.Listen("shop", "v1", late.Token).GetAsyncEnumerator(late.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await tooLate.MoveNextAsync());
    }
}
