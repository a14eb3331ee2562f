using System.ComponentModel;
using Insights.Contracts;
using Insights.ServiceDefaults;

namespace Insights.QueryApi.Live.Invitations;

/// <summary>A rule's suggestion on a visitor, as the snapshot and stream show it.</summary>
/// <param name="Rule">The rule's id.</param>
/// <param name="Name">The rule's name.</param>
/// <param name="Reason">What held, in words (<c>time on site ≥ 30 s and on /pricing*</c>).</param>
public sealed record LiveSuggestion(string Rule, string Name, [property: Description("The rule's conditions that held, in words.")] string Reason);

/// <summary>
/// What invitation rules remember of one present visitor (<see cref="PresentVisitor.Invitations"/>), changed only under
/// the site's lock. Per visit: the rules that fired, suggestions shown, exit intent, invitations sent; per visitor: the
/// latest decline of each rule (from storage when the visitor joined, then from live events) and live properties.
/// </summary>
public sealed class InvitationMemory
{
    /// <summary>Most live properties remembered per visitor; later names are ignored.</summary>
    public const int MaxProperties = 16;

    /// <summary>The visit the per-visit state belongs to; another one clears it.</summary>
    public string? SessionId { get; private set; }

    /// <summary>Rules that fired (suggested or invited) this visit: a rule fires once per visit.</summary>
    public HashSet<string> Fired { get; } = new(StringComparer.Ordinal);

    public List<LiveSuggestion> Suggestions { get; } = [];

    /// <summary>Invitation ids sent to this visitor this visit (a repeat from another instance or the topic is the same one).</summary>
    public HashSet<string> Sent { get; } = new(StringComparer.Ordinal);

    /// <summary>The page the visitor showed exit intent on; holds until they move to another page.</summary>
    public string? ExitIntentPage { get; set; }

    /// <summary>When each rule's invitation was last declined.</summary>
    public Dictionary<string, DateTimeOffset> Declined { get; } = new(StringComparer.Ordinal);

    /// <summary>True once the declines in storage were looked up (rules with a decline pause wait for it).</summary>
    public bool DeclinesKnown { get; set; }

    public Dictionary<string, string> Properties { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The site settings every rule was last checked against, and whether the declines were known then: while both still
    /// stand, a tick only checks the rules that watch the clock.
    /// </summary>
    public (SiteOptions? Settings, bool DeclinesKnown) Checked { get; set; }

    /// <summary>Clears what counts per visit when <paramref name="sessionId"/> is a new visit.</summary>
    public void Follow(string? sessionId)
    {
        if (sessionId == SessionId)
        {
            return;
        }

        SessionId = sessionId;
        Fired.Clear();
        Suggestions.Clear();
        Sent.Clear();
        ExitIntentPage = null;
    }

    public void Remember(IReadOnlyDictionary<string, string>? properties)
    {
        if (properties is null)
        {
            return;
        }

        foreach (var (name, value) in properties)
        {
            if (Properties.Count < MaxProperties || Properties.ContainsKey(name))
            {
                Properties[name] = value;
            }
        }
    }

    public long EstimateBytes()
    {
        long bytes = 200;
        foreach (var s in Suggestions)
        {
            bytes += 48 + MemoryBudget.StringBytes(s.Rule) + MemoryBudget.StringBytes(s.Name) + MemoryBudget.StringBytes(s.Reason);
        }

        foreach (var (name, value) in Properties)
        {
            bytes += 32 + MemoryBudget.StringBytes(name) + MemoryBudget.StringBytes(value);
        }

        return bytes + (64L * (Fired.Count + Sent.Count + Declined.Count));
    }
}
