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
/// delivers that visitor's auto-invitation itself; nothing is routed between instances. A visitor with no connection
/// here gets nothing from this instance (<see cref="Offer"/> returns false).
/// </summary>
public sealed class VisitorInvitations
{
    private readonly ConcurrentDictionary<(string Site, string Visitor), Channel<VisitorInvitation>> open = new();

    /// <summary>Hands <paramref name="invitation"/> to the visitor's open connection; false when the visitor has none here.</summary>
    public bool Offer(VisitorInvitation invitation)
    {
        ArgumentNullException.ThrowIfNull(invitation);
        return open.TryGetValue((invitation.Site, invitation.Visitor), out var channel) && channel.Writer.TryWrite(invitation);
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
