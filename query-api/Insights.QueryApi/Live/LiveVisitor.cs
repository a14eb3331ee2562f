using System.ComponentModel;
using Insights.Contracts;

namespace Insights.QueryApi.Live;

/// <summary>One visitor on a site now, as the snapshot and the stream show them.</summary>
public sealed record LiveVisitor(
    [property: Description("The tracker's anonymous visitor id.")] string VisitorId,
    [property: Description("The site's own id for the visitor, once identified.")] string? UserId,
    [property: Description("The current visit (session) id.")] string? SessionId,
    [property: Description("The business behind the visitor's network; null for ISPs, carriers, hosters, anonymizers.")] LiveCompany? Company,
    [property: Description("Lead score of this visit (0-100) under the site's lead-score settings: visit, page views, high-intent pages.")] int Score,
    [property: Description("IP geolocation (IP Geolocation by DB-IP, CC BY 4.0).")] LiveGeo? Location,
    LiveDevice? Device,
    [property: Description("The page the visitor is on.")] LivePage? Page,
    [property: Description("Distinct paths of this visit, in the order first seen (capped by Live:MaxPagesPerVisit).")] IReadOnlyList<string> Pages,
    [property: Description("Page views of this visit.")] int PageViews,
    DateTimeOffset VisitStartedAt,
    [property: Description("When the visitor arrived on the current page.")] DateTimeOffset PageSince,
    long TimeOnSiteSeconds,
    long TimeOnPageSeconds,
    [property: Description("The referrer the visit arrived with.")] string? Referrer,
    [property: Description("direct, organic_search, paid, social, referral, email …")] string? Channel,
    LiveCampaign? Campaign,
    [property: Description("Visits (sessions) of this visitor so far, this one included; null until looked up in storage, a second after joining.")] long? Visits,
    [property: Description("True when this is not the visitor's first visit; null until known.")] bool? Returning,
    [property: Description("Chats started while present.")] int Chats,
    [property: Description("browsing, invited (an invitation was sent and not declined), chatting or chat_ended.")] string ChatState,
    [property: Description("The latest cart value a track event reported ('value' or 'revenue').")] decimal? CartValue,
    [property: Description("Orders placed during this visit, summed.")] decimal? OrderValue,
    string? Currency,
    [property: Description("False after the tracker reported the tab hidden or the page left, until the next event.")] bool Active,
    DateTimeOffset LastSeen,
    [property: Description("Invitation rules (action suggest) that hold for the visitor this visit: highlight them to agents with the reason.")]
    IReadOnlyList<Invitations.LiveSuggestion> Suggestions);

public sealed record LivePage(string? Url, string? Path, string? Title);

/// <summary>Who is on a site now.</summary>
public sealed record LiveSnapshot(
    [property: Description("The site id.")] string Site,
    [property: Description("The stream's event id this snapshot is current to: a stream resumed from it (Last-Event-ID) misses nothing.")] long EventId,
    [property: Description("Visitors on the site (before filters).")] int Total,
    [property: Description("Visitors matching the filters, all of them; 'visitors' lists the first 'limit'.")] int Matching,
    [property: Description("Visitors matching the filters, most recently seen first, at most 'limit'.")] IReadOnlyList<LiveVisitor> Visitors,
    [property: Description("Credit to show with location and company data.")] string Attribution);

/// <summary>A <c>visitor_left</c> payload.</summary>
public sealed record LiveDeparture(string VisitorId, [property: Description("idle or evicted.")] string Reason);

/// <summary>Chat states, as the stream and snapshot name them.</summary>
public static class ChatStates
{
    public const string Browsing = "browsing";
    public const string Invited = "invited";
    public const string Chatting = "chatting";
    public const string ChatEnded = "chat_ended";
}

/// <summary>Stream event names.</summary>
public static class LiveEventNames
{
    public const string Joined = "visitor_joined";
    public const string PageChanged = "page_changed";
    public const string Updated = "visitor_updated";
    public const string Left = "visitor_left";
    public const string Snapshot = "snapshot";
    public const string Reset = "reset";
    public const string InvitationSuggested = "invitation_suggested";
    public const string InvitationSent = InvitationEvents.Sent;
    public const string InvitationShown = InvitationEvents.Shown;
    public const string InvitationAccepted = InvitationEvents.Accepted;
    public const string InvitationDeclined = InvitationEvents.Declined;
    public const string InvitationDismissed = "invitation_dismissed";
}
