namespace Insights.Dashboards.Api;

// The query API's JSON as the app reads it: the app's own records, not the API's types, so the two deploy apart. Every
// list defaults to empty and every figure the API may not send yet is nullable: a page shows what is there and leaves
// out a panel whose data is absent (an older API, a report being extended).

public sealed record SignedInPerson(Guid Id, string Email, string DisplayName);

public sealed record Me
{
    public SignedInPerson Person { get; init; } = new(Guid.Empty, "", "");
    public IReadOnlyList<Membership> Memberships { get; init; } = [];
    public IReadOnlyList<VisibleSite> Sites { get; init; } = [];

    /// <summary>The partners this person works for (admin or staff), by id.</summary>
    public IReadOnlyList<string> Partners => [.. Memberships.Where(m => m.Scope == "partner").Select(m => m.ScopeId).Distinct()];

    public VisibleSite? Site(string id) => Sites.FirstOrDefault(s => s.Id == id);
}

public sealed record Membership(string Scope, string ScopeId, string Role);

public sealed record VisibleSite(string Id, string Name, Guid OrganisationId, string Access)
{
    /// <summary>Settings and keys: admin, owner (partner people act as admins at their clients).</summary>
    public bool CanManage => Access is "admin" or "owner";
}

public sealed record SignInResult(SignedInPerson? Person, string? Cookies, string? Reason, TimeSpan? RetryAfter)
{
    public bool Succeeded => Person is not null && Cookies is not null;
}

// ---- Stats (the Overview) ----

public sealed record StatsReport
{
    public string Site { get; init; } = "";
    public string? TimeZone { get; init; }
    public DateTimeOffset From { get; init; }
    public DateTimeOffset To { get; init; }
    public string Interval { get; init; } = "day";
    public long PageViews { get; init; }
    public long Visitors { get; init; }
    public StatsTotals? Totals { get; init; }
    public StatsComparison? Comparison { get; init; }
    public IReadOnlyList<SeriesPoint> Series { get; init; } = [];
    public IReadOnlyList<PageStats> TopPages { get; init; } = [];
    public IReadOnlyList<ReferrerStats> TopReferrers { get; init; } = [];
    public IReadOnlyList<Breakdown> EntryPages { get; init; } = [];
    public IReadOnlyList<Breakdown> ExitPages { get; init; } = [];
    public IReadOnlyList<Breakdown> Channels { get; init; } = [];
    public IReadOnlyList<Breakdown> UtmSources { get; init; } = [];
    public IReadOnlyList<Breakdown> UtmMediums { get; init; } = [];
    public IReadOnlyList<Breakdown> UtmCampaigns { get; init; } = [];
    public IReadOnlyList<Breakdown> Countries { get; init; } = [];
    public IReadOnlyList<Breakdown> Regions { get; init; } = [];
    public IReadOnlyList<Breakdown> Cities { get; init; } = [];
    public IReadOnlyList<Breakdown> Devices { get; init; } = [];
    public IReadOnlyList<Breakdown> Browsers { get; init; } = [];
    public IReadOnlyList<Breakdown> OperatingSystems { get; init; } = [];
}

public sealed record StatsTotals(long Visitors, long PageViews, long? Visits, double? BounceRate, double? VisitDurationSeconds, double? ViewsPerVisit);

public sealed record StatsComparison(DateTimeOffset From, DateTimeOffset To, StatsTotals? Totals, StatsChange? Change, IReadOnlyList<SeriesPoint>? Series);

public sealed record StatsChange(double? Visitors, double? PageViews, double? Visits, double? BounceRate, double? VisitDurationSeconds, double? ViewsPerVisit);

public sealed record SeriesPoint(DateTimeOffset Start, long Views, long Visitors, long? Visits);

public sealed record PageStats(string Path, long Views, long Visitors);

public sealed record ReferrerStats(string ReferrerHost, long Visits, long Visitors);

public sealed record Breakdown(string Value, long Visitors, long Visits, double? BounceRate, double? VisitDurationSeconds, string? Country);

// ---- Companies ----

public sealed record DataAttribution(string Text, string Url);

public sealed record CompaniesReport
{
    public string Site { get; init; } = "";
    public DateTimeOffset From { get; init; }
    public DateTimeOffset To { get; init; }
    public long Total { get; init; }
    public IReadOnlyList<CompanySummary> Companies { get; init; } = [];
    public DataAttribution? Attribution { get; init; }
}

public sealed record CompanySummary(string Id, string Name, string? Domain, int Score, long Visits, long Visitors, long PageViews,
    DateTimeOffset FirstSeen, DateTimeOffset LastSeen, IReadOnlyList<PageVisits>? TopPages);

public sealed record PageVisits(string Path, long Visits);

public sealed record CompanyReport
{
    public CompanySummary? Company { get; init; }
    public IReadOnlyList<CompanyVisitor> Visitors { get; init; } = [];
    public IReadOnlyList<CompanyVisit> Visits { get; init; } = [];
    public DataAttribution? Attribution { get; init; }
}

public sealed record CompanyVisitor(string Id, long Visits, long PageViews, DateTimeOffset LastSeen);

public sealed record CompanyVisit(string Id, string VisitorId, DateTimeOffset StartedAt, DateTimeOffset EndedAt, long DurationSeconds, long PageViews,
    bool Bounce, string? EntryPage, string? ExitPage, IReadOnlyList<string>? Pages, string? Channel, string? ReferrerHost, string? UtmCampaign,
    Place? Location, DeviceInfo? Device);

public sealed record Place(string Country, string? Region, string? City);

public sealed record DeviceInfo(string Type, string Browser, string Os);

// ---- Live ----

public sealed record LiveSnapshot
{
    public string Site { get; init; } = "";
    public long EventId { get; init; }
    public int Total { get; init; }

    /// <summary>Visitors matching the snapshot's filters; <see cref="Visitors"/> lists the most recent of them.</summary>
    public int Matching { get; init; }
    public IReadOnlyList<LiveVisitor> Visitors { get; init; } = [];
    public string? Attribution { get; init; }
}

public sealed record LiveVisitor
{
    public string VisitorId { get; init; } = "";
    public string? UserId { get; init; }
    public LiveCompany? Company { get; init; }
    public int Score { get; init; }
    public Place? Location { get; init; }
    public DeviceInfo? Device { get; init; }
    public LivePage? Page { get; init; }
    public IReadOnlyList<string> Pages { get; init; } = [];
    public int PageViews { get; init; }
    public DateTimeOffset VisitStartedAt { get; init; }
    public long TimeOnSiteSeconds { get; init; }
    public string? Referrer { get; init; }
    public string? Channel { get; init; }
    public long? Visits { get; init; }
    public bool? Returning { get; init; }
    public string ChatState { get; init; } = "browsing";
    public decimal? CartValue { get; init; }
    public decimal? OrderValue { get; init; }
    public string? Currency { get; init; }
    public bool Active { get; init; } = true;
    public DateTimeOffset LastSeen { get; init; }
    public IReadOnlyList<LiveSuggestion> Suggestions { get; init; } = [];
}

public sealed record LiveCompany(string Id, string Name, string? Domain);

public sealed record LivePage(string? Url, string? Path, string? Title);

public sealed record LiveDeparture(string VisitorId, string? Reason);

/// <summary>A suggest rule that holds for a visitor this visit (issue 10): the rule's id and name, and why, in words.</summary>
public sealed record LiveSuggestion(string Rule, string? Name, string? Reason);

/// <summary><c>invitation_suggested</c>: a rule suggests inviting the visitor.</summary>
public sealed record SuggestionNotice(string VisitorId, string Rule, string? Name, string? Reason);

/// <summary><c>invitation_sent/shown/accepted/declined/dismissed</c>: what happened and the visitor's chat state after it.</summary>
public sealed record InvitationNotice(string VisitorId, string? InvitationId, string? Rule, string? Message, string? ChatState);

/// <summary>One Server-Sent Event: <c>id</c>, <c>event</c>, <c>data</c>.</summary>
public sealed record ServerSentEvent(string? Id, string Event, string Data);

// ---- Partners ----

public sealed record ClientSite(string Id, string Name, Guid Organisation, string OrganisationName);

public sealed record PartnerLiveSnapshot
{
    public Guid Partner { get; init; }
    public string EventId { get; init; } = "";
    public IReadOnlyList<ClientSite> Sites { get; init; } = [];
    public int Total { get; init; }

    /// <summary>Visitors matching the snapshot's filters; <see cref="Visitors"/> lists the most recent of them.</summary>
    public int Matching { get; init; }
    public IReadOnlyList<PartnerLiveVisitor> Visitors { get; init; } = [];
}

public sealed record PartnerLiveVisitor(string Site, Guid Organisation, string OrganisationName, LiveVisitor Visitor);

/// <summary>A partner stream's data: the site's event data (a visitor, or a departure) with its site.</summary>
public sealed record PartnerLiveChange(string Site, Guid Organisation, string OrganisationName, System.Text.Json.JsonElement Visitor);

public sealed record PartnerRevenueReport
{
    public DateTimeOffset From { get; init; }
    public DateTimeOffset To { get; init; }
    public string Model { get; init; } = "last_chat";
    public IReadOnlyList<ClientRevenue> Clients { get; init; } = [];
    public IReadOnlyList<CurrencyRevenue> Totals { get; init; } = [];
}

public sealed record ClientRevenue(Guid Organisation, string Name, IReadOnlyList<CurrencyRevenue> Revenue, IReadOnlyList<SiteRevenue> Sites);

public sealed record SiteRevenue(string Site, string Name, IReadOnlyList<CurrencyRevenue> Revenue);

public sealed record CurrencyRevenue(string Currency, long Orders, decimal Revenue, decimal ChatAttributedRevenue, long ChatAttributedOrders, long UnconvertedOrders);
