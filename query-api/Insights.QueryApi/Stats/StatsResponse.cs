using System.ComponentModel;

namespace Insights.QueryApi.Stats;

/// <summary>
/// Traffic of one site over a range: the overview dashboard's every number. Counts are exact and count every event (and
/// every visit) once. Page-view figures come from the <c>events</c> table, visit figures (bounce, duration, entry and exit
/// pages, channels, campaigns, locations, devices) from the <c>sessions</c> table: a visit counts in the range it began in.
/// </summary>
public sealed record StatsResponse(
    [property: Description("The site id.")] string Site,
    [property: Description("The site's IANA time zone; day buckets and date-only bounds are in it.")] string TimeZone,
    [property: Description("Start of the range (inclusive), in the site's time zone.")] DateTimeOffset From,
    [property: Description("End of the range (exclusive), in the site's time zone.")] DateTimeOffset To,
    [property: Description("Bucket size of the series: hour or day.")] string Interval,
    [property: Description("Page views in the range (the same as totals.pageViews).")] long PageViews,
    [property: Description("Distinct visitors (anonymous ids) with at least one page view in the range (the same as totals.visitors).")] long Visitors,
    [property: Description("Most viewed paths, most views first.")] IReadOnlyList<PageStats> TopPages,
    [property: Description("External referrer hosts (www. stripped), most visits first; direct traffic and the site's own host are left out.")] IReadOnlyList<ReferrerStats> TopReferrers,
    [property: Description("Views, visitors and visits per bucket, every bucket of the range included, empty ones as zeros.")] IReadOnlyList<SeriesPoint> Series,
    [property: Description("The filters applied to every figure of this response (null: not filtered).")] StatsFilters Filters,
    [property: Description("The headline figures of the range.")] StatsTotals Totals,
    [property: Description("The previous period of the same length, when compare=previous; otherwise null.")] StatsComparison? Comparison,
    [property: Description("Pages visits began on, most visitors first.")] IReadOnlyList<Breakdown> EntryPages,
    [property: Description("Pages visits ended on, most visitors first.")] IReadOnlyList<Breakdown> ExitPages,
    [property: Description("Acquisition channels of the visits: search, social, email, paid, referral, direct.")] IReadOnlyList<Breakdown> Channels,
    [property: Description("utm_source of the visits' landing pages (visits without one left out).")] IReadOnlyList<Breakdown> UtmSources,
    [property: Description("utm_medium of the visits' landing pages.")] IReadOnlyList<Breakdown> UtmMediums,
    [property: Description("utm_campaign of the visits' landing pages.")] IReadOnlyList<Breakdown> UtmCampaigns,
    [property: Description("Countries (ISO 3166-1 alpha-2) the visits came from (IP geolocation; unknown left out).")] IReadOnlyList<Breakdown> Countries,
    [property: Description("Regions the visits came from; 'country' names the region's country.")] IReadOnlyList<Breakdown> Regions,
    [property: Description("Cities the visits came from; 'country' names the city's country.")] IReadOnlyList<Breakdown> Cities,
    [property: Description("Device types: desktop, mobile, tablet, other.")] IReadOnlyList<Breakdown> Devices,
    [property: Description("Browsers.")] IReadOnlyList<Breakdown> Browsers,
    [property: Description("Operating systems.")] IReadOnlyList<Breakdown> OperatingSystems,
    [property: Description("Credit to show with the location figures (IP Geolocation by DB-IP, CC BY 4.0).")] Companies.DataAttribution Attribution);

public sealed record PageStats(string Path, long Views, long Visitors);

/// <summary>Visits are page views that arrived from the host.</summary>
public sealed record ReferrerStats(string ReferrerHost, long Visits, long Visitors);

/// <summary>One bucket, starting at <see cref="Start"/> in the site's time zone.</summary>
public sealed record SeriesPoint(
    DateTimeOffset Start,
    [property: Description("Page views in the bucket.")] long Views,
    [property: Description("Distinct visitors with a page view in the bucket.")] long Visitors,
    [property: Description("Visits that began in the bucket.")] long Visits);

/// <summary>The headline figures of a range.</summary>
public sealed record StatsTotals(
    [property: Description("Distinct visitors (anonymous ids) with a page view.")] long Visitors,
    [property: Description("Page views.")] long PageViews,
    [property: Description("Visits (sessions) that began in the range.")] long Visits,
    [property: Description("Share of the visits with a single page view and nothing else done, 0-1.")] double BounceRate,
    [property: Description("Mean seconds from the first to the last event of a visit.")] double VisitDurationSeconds,
    [property: Description("Page views of the visits per visit.")] double ViewsPerVisit);

/// <summary>The previous period: the same length, ending where the range starts.</summary>
public sealed record StatsComparison(
    [property: Description("Start of the previous period (inclusive).")] DateTimeOffset From,
    [property: Description("End of the previous period (exclusive): the range's start.")] DateTimeOffset To,
    [property: Description("The previous period's headline figures, under the same filters.")] StatsTotals Totals,
    [property: Description("Change from the previous period to the range.")] StatsChange Change,
    [property: Description("The previous period's buckets, as many as the range's and in the same order, to draw beside them.")] IReadOnlyList<SeriesPoint> Series);

/// <summary>
/// Relative changes (0.25 = 25 % more than the previous period; null when the previous value is zero), except the bounce
/// rate, which changes by its difference (0.05 = five points more).
/// </summary>
public sealed record StatsChange(
    [property: Description("Relative change of visitors; null when there were none before.")] double? Visitors,
    [property: Description("Relative change of page views; null when there were none before.")] double? PageViews,
    [property: Description("Relative change of visits; null when there were none before.")] double? Visits,
    [property: Description("Bounce rate now minus before (0.05 = five points more).")] double BounceRate,
    [property: Description("Relative change of the mean visit duration; null when it was 0 before.")] double? VisitDurationSeconds,
    [property: Description("Relative change of views per visit; null when it was 0 before.")] double? ViewsPerVisit);

/// <summary>The filters of a stats request, as applied (each null when not given).</summary>
public sealed record StatsFilters(
    [property: Description("Page path: page views of this page, visits that viewed it.")] string? Page,
    [property: Description("ISO 3166-1 alpha-2 country of the visit.")] string? Country,
    [property: Description("Acquisition channel of the visit.")] string? Channel,
    [property: Description("Company id of the visit's network (as /companies returns it).")] string? Company,
    [property: Description("Referrer host the visit landed from (www. ignored).")] string? Referrer,
    [property: Description("utm_campaign of the visit's landing page.")] string? Campaign);

/// <summary>One row of a visit breakdown: visits (sessions that began in the range) with this value.</summary>
public sealed record Breakdown(
    [property: Description("The value: a path, channel, utm tag, country code, region, city, device type, browser or OS.")] string Value,
    [property: Description("Distinct visitors among the visits.")] long Visitors,
    [property: Description("Visits (sessions that began in the range) with this value.")] long Visits,
    [property: Description("Share of these visits that bounced, 0-1.")] double BounceRate,
    [property: Description("Mean visit duration in seconds.")] double VisitDurationSeconds,
    [property: Description("The country of a region or city (ISO 3166-1 alpha-2); null in other lists.")] string? Country = null);
