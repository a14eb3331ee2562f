using System.ComponentModel;

namespace Insights.QueryApi.Companies;

/// <summary>
/// The credit CC BY 4.0 asks for wherever results of DB-IP's data are shown (geo, and company names from the AS
/// data). The same link as <c>Insights.Enrichment.IpDataPackages.DbIpAttributionHtml</c> (a test keeps them equal).
/// </summary>
[Description("Data credit to display with geo and company results: 'IP Geolocation by DB-IP' linking to https://db-ip.com (CC BY 4.0).")]
public sealed record DataAttribution(
    [property: Description("The credit's text.")] string Text,
    [property: Description("Where the credit links to.")] string Url,
    [property: Description("The credit as an HTML link, ready to place under the data.")] string Html)
{
    public static DataAttribution DbIp { get; } =
        new("IP Geolocation by DB-IP", "https://db-ip.com", "<a href='https://db-ip.com'>IP Geolocation by DB-IP</a>");
}

/// <summary>Identified companies of a site over a range, scored and sorted.</summary>
public sealed record CompaniesResponse(
    [property: Description("The site id.")] string Site,
    [property: Description("The site's IANA time zone; date-only bounds and times are in it.")] string TimeZone,
    [property: Description("Start of the range (inclusive): visits that began at or after it count.")] DateTimeOffset From,
    [property: Description("End of the range (exclusive); also the moment recency is measured from.")] DateTimeOffset To,
    [property: Description("Sort key: score, visits, visitors, page_views, last_seen, first_seen or name.")] string Sort,
    [property: Description("asc or desc.")] string Order,
    [property: Description("Companies matching the filters, before limit and offset.")] long Total,
    [property: Description("This page of companies.")] IReadOnlyList<CompanySummary> Companies,
    [property: Description("Credit to show with the data.")] DataAttribution Attribution);

/// <summary>One company's activity in the range.</summary>
public sealed record CompanySummary(
    [property: Description("Stable id of the company (a slug of its name and a hash); use it with /companies/{id}.")] string Id,
    [property: Description("The company's name, as the IP data names its network.")] string Name,
    [property: Description("The company's domain when a source knows it.")] string? Domain,
    [property: Description("Lead score 0-100: visits, page views and high-intent pages, recent visits weighing more.")] int Score,
    [property: Description("Visits (sessions) from the company's networks.")] long Visits,
    [property: Description("Distinct visitors (anonymous ids) among those visits.")] long Visitors,
    [property: Description("Page views in those visits.")] long PageViews,
    [property: Description("Start of the first visit in the range.")] DateTimeOffset FirstSeen,
    [property: Description("End of the latest visit in the range.")] DateTimeOffset LastSeen,
    [property: Description("Pages included in the most visits, most first.")] IReadOnlyList<PageVisits> TopPages,
    [property: Description("The country (ISO 3166-1 alpha-2) most of the visits came from; null when unknown.")] string? Country,
    [property: Description("True when the domain is on the site's target-account list (or under one of its domains).")] bool TargetAccount,
    [property: Description("Visitors among them who identified themselves to the site (a user id: signed in, or an identify call).")] long IdentifiedVisitors);

public sealed record PageVisits(
    [property: Description("Page path.")] string Path,
    [property: Description("Visits that included the page.")] long Visits);

/// <summary>One company's visit timeline.</summary>
public sealed record CompanyResponse(
    string Site,
    string TimeZone,
    DateTimeOffset From,
    DateTimeOffset To,
    [property: Description("The company's totals and score over the range.")] CompanySummary Company,
    [property: Description("The company's visitors in the range, most recent first.")] IReadOnlyList<CompanyVisitor> Visitors,
    [property: Description("Visits in the range, most recent first (at most 'limit', after 'offset').")] IReadOnlyList<Visit> Visits,
    [property: Description("Credit to show with the data.")] DataAttribution Attribution);

public sealed record CompanyVisitor(
    [property: Description("The visitor's anonymous id; use it with /visitors/{id}.")] string Id,
    long Visits,
    long PageViews,
    DateTimeOffset LastSeen);

/// <summary>One visit (session): a visitor's events with no gap longer than 30 minutes.</summary>
public sealed record Visit(
    [property: Description("Session id.")] string Id,
    [property: Description("The visitor's anonymous id.")] string VisitorId,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    [property: Description("Seconds from the first to the last event of the visit.")] long DurationSeconds,
    [property: Description("Milliseconds the visit's pages were visible, as the tracker reported.")] long EngagedMs,
    long PageViews,
    [property: Description("A single page view and nothing else done.")] bool Bounce,
    string EntryPage,
    string ExitPage,
    [property: Description("Distinct pages of the visit, in the order first viewed.")] IReadOnlyList<string> Pages,
    [property: Description("search, social, email, paid, referral or direct (UTM tags win over the referrer).")] string Channel,
    [property: Description("The landing page's referrer host, if any.")] string? ReferrerHost,
    string? UtmSource,
    string? UtmMedium,
    string? UtmCampaign,
    [property: Description("Where the visitor was (IP geolocation).")] Location? Location,
    Device? Device,
    [property: Description("The company behind the visit's network, when it is a business.")] CompanyRef? Company);

public sealed record Location(
    [property: Description("ISO 3166-1 alpha-2 country code.")] string Country,
    string? Region,
    string? City);

public sealed record Device(
    [property: Description("desktop, mobile, tablet or other.")] string Type,
    string Browser,
    string Os);

public sealed record CompanyRef(string Id, string Name, string? Domain);
