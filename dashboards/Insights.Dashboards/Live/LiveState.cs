using System.Text.Json;
using Insights.Dashboards.Api;

namespace Insights.Dashboards.Live;

/// <summary>A present visitor as a live view shows them: the visitor, and for a partner's view the client site they are on.</summary>
public sealed record PresentVisitor(LiveVisitor Visitor, string Site, string? SiteName, string? Client);

/// <summary>
/// Who is on the site (or on a partner's client sites) now, kept up to date from the query API's stream: the
/// snapshot (or a reset) replaces everything, joins and changes replace a visitor, leaving removes them, invitation
/// events move the chat state and the suggestions. Events for visitors it does not know are ignored (a change that
/// raced a leave). Not thread-safe: one stream loop applies, the component renders under the same dispatcher.
/// </summary>
public sealed class LiveState(string? partnerSite = null)
{
    private readonly Dictionary<(string Site, string Visitor), PresentVisitor> visitors = [];
    private readonly Dictionary<string, (string Name, string Client)> sites = [];

    /// <summary>Set for a single site's view; null for a partner's, whose events name their site.</summary>
    private readonly string? site = partnerSite;

    public static LiveState ForSite(string site) => new(site);

    public static LiveState ForPartner() => new(null);

    /// <summary>The stream position applied so far (resume with it as <c>Last-Event-ID</c>).</summary>
    public string? LastEventId { get; private set; }

    /// <summary>Most recently seen first.</summary>
    public IReadOnlyList<PresentVisitor> Visitors => [.. visitors.Values.OrderByDescending(v => v.Visitor.LastSeen).ThenBy(v => v.Visitor.VisitorId, StringComparer.Ordinal)];

    public int Count => visitors.Count;

    /// <summary>
    /// Visitors a loaded snapshot counted but did not list (the query API lists the most recent of a busy site): part of
    /// the count a person is shown until the stream's own snapshot, which lists everyone, replaces it.
    /// </summary>
    public int Unlisted { get; private set; }

    public void Load(LiveSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        visitors.Clear();
        Unlisted = Math.Max(0, snapshot.Matching - snapshot.Visitors.Count);
        foreach (var v in snapshot.Visitors)
        {
            Put(new PresentVisitor(v, snapshot.Site, null, null));
        }
    }

    public void Load(PartnerLiveSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        visitors.Clear();
        Unlisted = Math.Max(0, snapshot.Matching - snapshot.Visitors.Count);
        foreach (var s in snapshot.Sites)
        {
            sites[s.Id] = (s.Name, s.OrganisationName);
        }

        foreach (var v in snapshot.Visitors)
        {
            Put(new PresentVisitor(v.Visitor, v.Site, SiteName(v.Site), v.OrganisationName));
        }
    }

    /// <summary>Applies one stream event; true when what a person sees changed.</summary>
    public bool Apply(ServerSentEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Id is not null)
        {
            LastEventId = e.Id;
        }

        var json = QueryApiClient.Json;
        if (e.Event is "snapshot" or "reset")
        {
            if (site is null)
            {
                Load(JsonSerializer.Deserialize<PartnerLiveSnapshot>(e.Data, json)!);
            }
            else
            {
                Load(JsonSerializer.Deserialize<LiveSnapshot>(e.Data, json)!);
            }

            return true;
        }

        // A partner stream wraps the site's data: { site, organisation, organisationName, visitor: <the site's data> }.
        string eventSite;
        string? client = null;
        JsonElement data;
        using var document = JsonDocument.Parse(e.Data);
        if (site is null)
        {
            var root = document.RootElement;
            eventSite = root.GetProperty("site").GetString()!;
            client = root.TryGetProperty("organisationName", out var name) ? name.GetString() : null;
            data = root.GetProperty("visitor");
        }
        else
        {
            eventSite = site;
            data = document.RootElement;
        }

        var visitorId = data.TryGetProperty("visitorId", out var id) ? id.GetString() : null;
        if (visitorId is null)
        {
            return false;
        }

        var key = (eventSite, visitorId);
        switch (e.Event)
        {
            case "visitor_joined" or "page_changed" or "visitor_updated":
                Put(new PresentVisitor(data.Deserialize<LiveVisitor>(json)!, eventSite, SiteName(eventSite), client ?? Client(eventSite)));
                return true;
            case "visitor_left":
                return visitors.Remove(key);
            case "invitation_suggested" when visitors.TryGetValue(key, out var present):
                var suggestion = data.Deserialize<SuggestionNotice>(json)!;
                Put(present with
                {
                    Visitor = present.Visitor with
                    {
                        Suggestions = [.. present.Visitor.Suggestions.Where(s => s.Rule != suggestion.Rule), new LiveSuggestion(suggestion.Rule, suggestion.Name, suggestion.Reason)],
                    },
                });
                return true;
            case var name when name.StartsWith("invitation_", StringComparison.Ordinal) && visitors.TryGetValue(key, out var invited):
                var notice = data.Deserialize<InvitationNotice>(json)!;
                IReadOnlyList<LiveSuggestion> suggestions = name switch
                {
                    "invitation_dismissed" => [.. invited.Visitor.Suggestions.Where(s => notice.Rule is not null && s.Rule != notice.Rule)],
                    "invitation_sent" => [], // invited now: the suggestions are answered
                    _ => invited.Visitor.Suggestions,
                };
                Put(invited with { Visitor = invited.Visitor with { ChatState = notice.ChatState ?? invited.Visitor.ChatState, Suggestions = suggestions } });
                return true;
            default:
                return false;
        }
    }

    /// <summary>Drops a suggestion at once (the agent dismissed it; the stream's <c>invitation_dismissed</c> confirms it).</summary>
    public void Dismiss(string site, string visitor, string rule)
    {
        if (visitors.TryGetValue((site, visitor), out var present))
        {
            Put(present with { Visitor = present.Visitor with { Suggestions = [.. present.Visitor.Suggestions.Where(s => s.Rule != rule)] } });
        }
    }

    private void Put(PresentVisitor visitor) => visitors[(visitor.Site, visitor.Visitor.VisitorId)] = visitor;

    private string? SiteName(string id) => sites.TryGetValue(id, out var s) ? s.Name : null;

    private string? Client(string id) => sites.TryGetValue(id, out var s) ? s.Client : null;
}
