using Insights.Contracts;
using Insights.ServiceDefaults;

namespace Insights.QueryApi.Live;

/// <summary>A visitor's live state, changed only under its site's lock (<see cref="SitePresence"/>).</summary>
public sealed class PresentVisitor(string id)
{
    // Ids of the latest events applied: the rebuild and the topic overlap, and the topic is at-least-once.
    private readonly string?[] recent = new string?[8];
    private int next;

    public string Id { get; } = id;

    public string? UserId { get; set; }

    public string? SessionId { get; set; }

    public DateTimeOffset VisitStartedAt { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    public DateTimeOffset PageSince { get; set; }

    public LiveCompany? Company { get; set; }

    public LiveGeo? Geo { get; set; }

    public LiveDevice? Device { get; set; }

    public LivePage? Page { get; set; }

    public List<string> Pages { get; } = [];

    public int PageViews { get; set; }

    /// <summary>The lead score's intent points of <see cref="Pages"/>, summed as they are added.</summary>
    public double IntentPoints { get; set; }

    public string? Referrer { get; set; }

    public string? Channel { get; set; }

    public LiveCampaign? Campaign { get; set; }

    public int Chats { get; set; }

    /// <summary>Visits so far (from storage), or null until looked up.</summary>
    public long? Visits { get; set; }

    public string ChatState { get; set; } = ChatStates.Browsing;

    public decimal? CartValue { get; set; }

    public decimal? OrderValue { get; set; }

    public string? Currency { get; set; }

    public bool Active { get; set; } = true;

    public int Score { get; set; }

    /// <summary>What invitation rules remember of the visitor (null until a rule looked at them).</summary>
    public Invitations.InvitationMemory? Invitations { get; set; }

    /// <summary>What this visitor was estimated at when last changed (see <see cref="EstimateBytes"/>).</summary>
    public long Bytes { get; set; }

    /// <summary>Records the event id; false when it was applied already.</summary>
    public bool FirstTime(string eventId)
    {
        if (Array.IndexOf(recent, eventId) >= 0)
        {
            return false;
        }

        recent[next] = eventId;
        next = (next + 1) % recent.Length;
        return true;
    }

    /// <summary>A new visit of the same visitor: what counted per visit starts again.</summary>
    public void StartVisit(string sessionId, DateTimeOffset startedAt)
    {
        SessionId = sessionId;
        VisitStartedAt = startedAt;
        Pages.Clear();
        IntentPoints = 0;
        PageViews = 0;
        OrderValue = null;
        CartValue = null;
        Referrer = null;
        Channel = null;
        Campaign = null;
    }

    public LiveVisitor View(DateTimeOffset now) => new(Id, UserId, SessionId, Company, Score, Geo, Device, Page, [.. Pages], PageViews,
        VisitStartedAt, PageSince, Seconds(now - VisitStartedAt), Seconds(now - PageSince), Referrer, Channel, Campaign, Visits, Visits is { } visits ? visits > 1 : null, Chats, ChatState,
        CartValue, OrderValue, Currency, Active, LastSeen,
        Invitations is { } memory && memory.SessionId == SessionId ? [.. memory.Suggestions] : []);

    private static long Seconds(TimeSpan span) => Math.Max(0, (long)span.TotalSeconds);

    /// <summary>Heap bytes of this visitor: the object, its dictionary entry, its records and every string it points at.</summary>
    public long EstimateBytes()
    {
        // Object header and ~30 fields, the recent-ids array, the dictionary entry, the pages list.
        const int FixedBytes = 320 + 88 + 48 + 40;
        long bytes = FixedBytes + (8L * Pages.Capacity);
        foreach (var page in Pages)
        {
            bytes += MemoryBudget.StringBytes(page);
        }

        foreach (var id in recent)
        {
            bytes += MemoryBudget.StringBytes(id);
        }

        bytes += Company is null ? 0 : 40 + MemoryBudget.StringBytes(Company.Id) + MemoryBudget.StringBytes(Company.Name) + MemoryBudget.StringBytes(Company.Domain);
        bytes += Geo is null ? 0 : 40 + MemoryBudget.StringBytes(Geo.Country) + MemoryBudget.StringBytes(Geo.Region) + MemoryBudget.StringBytes(Geo.City);
        bytes += Device is null ? 0 : 40 + MemoryBudget.StringBytes(Device.Type) + MemoryBudget.StringBytes(Device.Browser) + MemoryBudget.StringBytes(Device.Os);
        bytes += Page is null ? 0 : 40 + MemoryBudget.StringBytes(Page.Url) + MemoryBudget.StringBytes(Page.Path) + MemoryBudget.StringBytes(Page.Title);
        bytes += Campaign is null ? 0 : 56 + MemoryBudget.StringBytes(Campaign.Source) + MemoryBudget.StringBytes(Campaign.Medium)
            + MemoryBudget.StringBytes(Campaign.Name) + MemoryBudget.StringBytes(Campaign.Term) + MemoryBudget.StringBytes(Campaign.Content);
        foreach (var text in (ReadOnlySpan<string?>)[Id, UserId, SessionId, Referrer, Channel, ChatState, Currency])
        {
            bytes += MemoryBudget.StringBytes(text);
        }

        return bytes + (Invitations?.EstimateBytes() ?? 0);
    }
}
