using System.ComponentModel;

namespace Insights.QueryApi.Stats;

/// <summary>Traffic of one site over a range. Counts are exact and count every event once.</summary>
public sealed record StatsResponse(
    [property: Description("The site id.")] string Site,
    [property: Description("The site's IANA time zone; day buckets and date-only bounds are in it.")] string TimeZone,
    [property: Description("Start of the range (inclusive), in the site's time zone.")] DateTimeOffset From,
    [property: Description("End of the range (exclusive), in the site's time zone.")] DateTimeOffset To,
    [property: Description("Bucket size of the series: hour or day.")] string Interval,
    [property: Description("Page views in the range.")] long PageViews,
    [property: Description("Distinct visitors (anonymous ids) with at least one page view in the range.")] long Visitors,
    [property: Description("Most viewed paths, most views first.")] IReadOnlyList<PageStats> TopPages,
    [property: Description("External referrer hosts (www. stripped), most visits first; direct traffic and the site's own host are left out.")] IReadOnlyList<ReferrerStats> TopReferrers,
    [property: Description("Views and visitors per bucket, every bucket of the range included, empty ones as zeros.")] IReadOnlyList<SeriesPoint> Series);

public sealed record PageStats(string Path, long Views, long Visitors);

/// <summary>Visits are page views that arrived from the host.</summary>
public sealed record ReferrerStats(string ReferrerHost, long Visits, long Visitors);

/// <summary>One bucket, starting at <see cref="Start"/> in the site's time zone.</summary>
public sealed record SeriesPoint(DateTimeOffset Start, long Views, long Visitors);
