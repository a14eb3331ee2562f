using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Insights.Contracts;

namespace Insights.QueryApi.Live.Invitations;

/// <summary>An invitation on the site's stream (<c>invitation_sent/shown/accepted/declined/dismissed</c>).</summary>
/// <param name="VisitorId">Who it is for.</param>
/// <param name="InvitationId">The invitation's id (a suggestion's for <c>invitation_dismissed</c>).</param>
/// <param name="Rule">The rule that sent it; null for an agent's invitation.</param>
/// <param name="Message">invitation_sent: what it says.</param>
/// <param name="ChatState">The visitor's chat state after it.</param>
public sealed record InvitationNotice(string VisitorId, string InvitationId, string? Rule, string? Message, string ChatState);

/// <summary>A rule's suggestion on the site's stream (<c>invitation_suggested</c>).</summary>
public sealed record SuggestionNotice(string VisitorId, string Rule, string Name, string Reason);

/// <summary>
/// The site's invitation rules, evaluated for every present visitor on each live event and once a second (time
/// conditions), under the site's lock. A <c>suggest</c> rule puts a suggestion on the visitor (<c>invitation_suggested</c>);
/// an <c>auto_invite</c> rule sends an invitation: offered to the visitor's page when it is connected here
/// (<see cref="VisitorInvitations"/>), published as <c>invitation_sent</c>, and recorded through Kafka with an id every
/// instance derives alike. Invitation events from the topic (an agent's invitation, the visitor's answers) move the
/// chat state and are published; one already applied (the same id) is not applied again.
/// </summary>
/// <remarks>
/// Caps: a rule fires once per visit; nothing fires while the visitor chats; an auto-invitation waits while another is
/// open (chat state invited); a rule with a decline pause waits until the visitor's declines were looked up in storage
/// (<see cref="InvitationWorker"/>, a second after joining) and skips visitors who declined it within the pause.
/// </remarks>
public sealed class InvitationWatcher(SiteCatalog catalog, VisitorInvitations invitations, InvitationRecorder recorder) : IPresenceWatcher
{
    private readonly ConcurrentQueue<(string Site, string Visitor)> joined = new();

    /// <summary>Visitors whose declines are to be looked up (at most <paramref name="max"/>).</summary>
    internal List<(string Site, string Visitor)> TakeJoined(int max)
    {
        var taken = new List<(string, string)>();
        while (taken.Count < max && joined.TryDequeue(out var next))
        {
            taken.Add(next);
        }

        return taken;
    }

    public void Changed(SitePresence site, PresentVisitor visitor, LiveEvent e, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(visitor);
        ArgumentNullException.ThrowIfNull(e);
        // A site without rules needs no memory of its visitors (nor a look-up of their declines), except for invitations
        // an agent sent and the visitor's answers to them, which move the chat state.
        var rules = Rules(site);
        if (visitor.Invitations is null && e.Invitation is null && rules is null)
        {
            return;
        }

        var memory = Memory(site, visitor);
        memory.Remember(e.Properties);
        if (e.Type == EventTypes.Track)
        {
            Answer(site, visitor, memory, e, now);
        }

        if (rules is not null)
        {
            Evaluate(site, visitor, memory, rules, now, tick: false);
        }
    }

    public void Tick(SitePresence site, PresentVisitor visitor, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(visitor);
        if (Rules(site) is { } rules)
        {
            Evaluate(site, visitor, Memory(site, visitor), rules, now, tick: true);
        }
    }

    /// <summary>The site's settings when it has invitation rules; null when it has none.</summary>
    private SiteOptions? Rules(SitePresence site) => catalog.FindById(site.Site) is { Invitations.Count: > 0 } options ? options : null;

    public void Left(SitePresence site, PresentVisitor visitor)
    {
    }

    private InvitationMemory Memory(SitePresence site, PresentVisitor visitor)
    {
        if (visitor.Invitations is not { } memory)
        {
            memory = visitor.Invitations = new InvitationMemory();
            joined.Enqueue((site.Site, visitor.Id));
        }

        memory.Follow(visitor.SessionId);
        return memory;
    }

    /// <summary>Invitation events and exit intent from the topic.</summary>
    private void Answer(SitePresence site, PresentVisitor visitor, InvitationMemory memory, LiveEvent e, DateTimeOffset now)
    {
        if (e.Name == InvitationEvents.ExitIntent)
        {
            memory.ExitIntentPage = visitor.Page?.Path;
            return;
        }

        if (e.Invitation is not { } invitation)
        {
            return;
        }

        switch (e.Name)
        {
            case InvitationEvents.Sent:
                Deliver(site, visitor, memory, invitation, now);
                break;
            case InvitationEvents.Declined:
                if (invitation.Rule is { } rule)
                {
                    memory.Declined[rule] = e.ReceivedAt;
                }

                if (visitor.ChatState == ChatStates.Invited)
                {
                    visitor.ChatState = ChatStates.Browsing;
                }

                Publish(site, visitor, LiveEventNames.InvitationDeclined, invitation, now);
                break;
            case InvitationEvents.Shown or InvitationEvents.Accepted:
                site.Publish(e.Name, Notice(visitor, invitation));
                break;
            case InvitationEvents.Dismissed when invitation.Rule is { } dismissed:
                memory.Fired.Add(dismissed);
                if (memory.Suggestions.RemoveAll(s => s.Rule == dismissed) > 0)
                {
                    Publish(site, visitor, LiveEventNames.InvitationDismissed, invitation, now);
                }

                break;
        }
    }

    private void Evaluate(SitePresence site, PresentVisitor visitor, InvitationMemory memory, SiteOptions options, DateTimeOffset now, bool tick)
    {
        if (visitor.ChatState == ChatStates.Chatting)
        {
            return;
        }

        // Once a second for every present visitor: when nothing but time moved since every rule was checked (same
        // settings, declines as known then), only the rules that watch the clock can have changed their answer.
        var onlyClock = tick && memory.Checked == (options, memory.DeclinesKnown);
        memory.Checked = (options, memory.DeclinesKnown);
        foreach (var rule in onlyClock ? ClockRules(options) : options.Invitations)
        {
            if (!rule.IsActive(now) || memory.Fired.Contains(rule.Id))
            {
                continue;
            }

            var invites = rule.Action == InvitationActions.AutoInvite;
            if (invites && (visitor.ChatState == ChatStates.Invited || !memory.DeclinesKnown))
            {
                continue;
            }

            // Only invitations can be declined: a suggestion is the agents' to act on.
            if (invites && rule.DeclineCooldownDays > 0 && (!memory.DeclinesKnown
                || (memory.Declined.TryGetValue(rule.Id, out var declined) && now - declined < TimeSpan.FromDays(rule.DeclineCooldownDays))))
            {
                continue;
            }

            if (!RuleEvaluator.Holds(rule.When, visitor, options, now))
            {
                continue;
            }

            memory.Fired.Add(rule.Id);
            if (invites)
            {
                var id = InvitationRecorder.DeterministicId("r-", site.Site, visitor.Id, visitor.SessionId, rule.Id);
                var invitation = new LiveInvitation(id, rule.Id, rule.Message);
                Deliver(site, visitor, memory, invitation, now);
                recorder.Enqueue(InvitationRecorder.Event($"{InvitationEvents.Sent}:{id}", InvitationEvents.Sent, site.Site, visitor.Id, id, rule.Id, rule.Message, now));
            }
            else
            {
                var suggestion = new LiveSuggestion(rule.Id, rule.Name, RuleEvaluator.Describe(rule.When));
                memory.Suggestions.Add(suggestion);
                site.Publish(LiveEventNames.InvitationSuggested, new SuggestionNotice(visitor.Id, rule.Id, rule.Name, suggestion.Reason));
                site.Publish(LiveEventNames.Updated, visitor, now);
            }
        }
    }

    /// <summary>The site's rules that watch the clock, worked out once per settings object (a change swaps the object).</summary>
    private static IReadOnlyList<InvitationRule> ClockRules(SiteOptions options) =>
        ClockRuleCache.GetValue(options, o => o.Invitations.Where(RuleEvaluator.WatchesClock).ToArray());

    private static readonly ConditionalWeakTable<SiteOptions, InvitationRule[]> ClockRuleCache = new();

    /// <summary>Sends an invitation once: to the visitor's page when connected here, on the stream, chat state invited.</summary>
    private void Deliver(SitePresence site, PresentVisitor visitor, InvitationMemory memory, LiveInvitation invitation, DateTimeOffset now)
    {
        if (!memory.Sent.Add(invitation.Id))
        {
            return;
        }

        if (invitation.Rule is { } rule)
        {
            memory.Fired.Add(rule);
        }

        if (visitor.ChatState is ChatStates.Browsing or ChatStates.ChatEnded)
        {
            visitor.ChatState = ChatStates.Invited;
        }

        invitations.Offer(new VisitorInvitation(invitation.Id, site.Site, visitor.Id, invitation.Rule, invitation.Message ?? "", now));
        Publish(site, visitor, LiveEventNames.InvitationSent, invitation, now);
    }

    private static void Publish(SitePresence site, PresentVisitor visitor, string name, LiveInvitation invitation, DateTimeOffset now)
    {
        site.Publish(name, Notice(visitor, invitation));
        site.Publish(LiveEventNames.Updated, visitor, now);
    }

    private static InvitationNotice Notice(PresentVisitor visitor, LiveInvitation invitation) =>
        new(visitor.Id, invitation.Id, invitation.Rule, invitation.Message, visitor.ChatState);
}
