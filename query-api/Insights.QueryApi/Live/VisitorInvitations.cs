using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Insights.QueryApi.Live;

/// <summary>An invitation to chat on its way to one visitor's page (an auto-invitation rule fired, or an agent invited).</summary>
/// <param name="Id">The invitation's id: the visitor's page reports <c>invitation_shown/accepted/declined</c> with it.</param>
/// <param name="Rule">The rule that fired, or null for an agent's own invitation.</param>
/// <param name="Message">What the bubble says (already bounded by the rule's validation).</param>
public sealed record VisitorInvitation(string Id, string Site, string Visitor, string? Rule, string Message, DateTimeOffset SentAt);

/// <summary>
/// Delivers invitations to the visitors' pages connected to this instance. Every instance follows every site's presence
/// and evaluates the same rules on the same events, so the instance that holds a visitor's connection decides and
/// delivers that visitor's auto-invitation itself; nothing is routed between instances.
/// </summary>
/// <remarks>
/// A page closes its connection when it unloads and the next page opens one only once its scripts run, while the page
/// view that fires a rule is already on its way; an invitation offered in that gap is held for <see cref="HoldFor"/>
/// and handed to the visitor's next connection (at most <see cref="MaxHeld"/> are held; past it the oldest go).
/// </remarks>
public sealed class VisitorInvitations(TimeProvider time)
{
    /// <summary>How long an invitation waits for a visitor whose page is between connections.</summary>
    public static readonly TimeSpan HoldFor = TimeSpan.FromSeconds(30);

    /// <summary>Most invitations held at once on an instance (bounded memory whatever the rules fire).</summary>
    public const int MaxHeld = 10_000;

    private readonly ConcurrentDictionary<(string Site, string Visitor), Channel<VisitorInvitation>> open = new();
    private readonly ConcurrentDictionary<(string Site, string Visitor), VisitorInvitation> held = new();

    public VisitorInvitations()
        : this(TimeProvider.System)
    {
    }

    /// <summary>
    /// Hands <paramref name="invitation"/> to the visitor's open connection; false when the visitor has none here, in
    /// which case it is held for the visitor's next connection within <see cref="HoldFor"/>.
    /// </summary>
    public bool Offer(VisitorInvitation invitation)
    {
        ArgumentNullException.ThrowIfNull(invitation);
        var key = (invitation.Site, invitation.Visitor);
        if (open.TryGetValue(key, out var channel) && channel.Writer.TryWrite(invitation))
        {
            return true;
        }

        if (held.Count >= MaxHeld)
        {
            var now = time.GetUtcNow();
            foreach (var (stale, old) in held)
            {
                if (now - old.SentAt > HoldFor || held.Count >= MaxHeld)
                {
                    held.TryRemove(stale, out _);
                }
            }
        }

        held[key] = invitation;
        return false;
    }

    /// <summary>True when the visitor's page is connected to this instance (an auto-invitation can reach it).</summary>
    public bool IsConnected(string site, string visitor) => open.ContainsKey((site, visitor));

    /// <summary>
    /// Opens the visitor's connection: invitations offered until <paramref name="cancellation"/> ends it. One connection
    /// per visitor; a newer one (another tab, a reconnect) replaces the older, which completes.
    /// </summary>
    public async IAsyncEnumerable<VisitorInvitation> Listen(string site, string visitor,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        var channel = Channel.CreateBounded<VisitorInvitation>(new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.DropOldest });
        var key = (site, visitor);
        open.AddOrUpdate(key, channel, (_, older) =>
        {
            older.Writer.TryComplete();
            return channel;
        });
        if (held.TryRemove(key, out var waiting) && time.GetUtcNow() - waiting.SentAt <= HoldFor)
        {
            channel.Writer.TryWrite(waiting);
        }
        try
        {
            await foreach (var invitation in channel.Reader.ReadAllAsync(cancellation).ConfigureAwait(false))
            {
                yield return invitation;
            }
        }
        finally
        {
            open.TryRemove(new KeyValuePair<(string, string), Channel<VisitorInvitation>>(key, channel));
        }
    }
}
