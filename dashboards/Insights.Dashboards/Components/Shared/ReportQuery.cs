using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.WebUtilities;

namespace Insights.Dashboards.Components.Shared;

/// <summary>
/// A report's range, comparison and filters, read from the page's query string (so every view is a link a person can
/// share or bookmark, and works without script), and turned into the query API's parameters.
/// </summary>
public sealed class ReportQuery
{
    public static readonly IReadOnlyList<(string Key, string Label)> Ranges =
    [
        ("today", "Today"), ("yesterday", "Yesterday"), ("7d", "Last 7 days"), ("30d", "Last 30 days"),
        ("month", "This month"), ("last-month", "Last month"), ("12mo", "Last 12 months"), ("custom", "Custom"),
    ];

    /// <summary>Filters every Overview panel honours (the stats API's filter parameters), with what a person calls them.</summary>
    public static readonly IReadOnlyList<(string Key, string Label)> FilterNames =
    [
        ("page", "Page"), ("country", "Country"), ("channel", "Channel"), ("company", "Company"), ("referrer", "Referrer"), ("campaign", "Campaign"),
    ];

    private const int MaxParameterLength = 200; // what the app passes on; the API checks its own limits too

    private ReportQuery(string range, DateOnly from, DateOnly to, bool compare, IReadOnlyDictionary<string, string> filters)
    {
        Range = range;
        From = from;
        To = to;
        Compare = compare;
        Filters = filters;
    }

    public string Range { get; }

    /// <summary>First day of the range (inclusive).</summary>
    public DateOnly From { get; }

    /// <summary>Day after the range (exclusive).</summary>
    public DateOnly To { get; }

    public bool Compare { get; }

    public IReadOnlyDictionary<string, string> Filters { get; }

    public string Interval => To.DayNumber - From.DayNumber <= 2 ? "hour" : "day";

    public string RangeLabel => Range == "custom"
        ? $"{From.ToString("d MMM yyyy", CultureInfo.InvariantCulture)} – {To.AddDays(-1).ToString("d MMM yyyy", CultureInfo.InvariantCulture)}"
        : Ranges.First(r => r.Key == Range).Label;

    /// <summary>Reads the range from <paramref name="uri"/>; unknown or malformed values fall back to <paramref name="defaultRange"/>.</summary>
    public static ReportQuery Parse(string uri, string defaultRange = "7d", DateOnly? today = null)
    {
        var query = QueryHelpers.ParseQuery(new Uri(uri).Query);
        string? Get(string key) => query.TryGetValue(key, out var v) && v.Count > 0 && v[0] is { Length: > 0 and <= MaxParameterLength } s ? s : null;

        var day = today ?? DateOnly.FromDateTime(DateTime.UtcNow);
        var range = Get("range") is { } r && Ranges.Any(x => x.Key == r) ? r : defaultRange;
        DateOnly from, to;
        switch (range)
        {
            case "today": (from, to) = (day, day.AddDays(1)); break;
            case "yesterday": (from, to) = (day.AddDays(-1), day); break;
            case "30d": (from, to) = (day.AddDays(-29), day.AddDays(1)); break;
            case "month": (from, to) = (new DateOnly(day.Year, day.Month, 1), day.AddDays(1)); break;
            case "last-month": to = new DateOnly(day.Year, day.Month, 1); from = to.AddMonths(-1); break;
            case "12mo": (from, to) = (day.AddMonths(-12).AddDays(1), day.AddDays(1)); break;
            case "custom" when Date(Get("from")) is { } f && Date(Get("to")) is { } t && f <= t: (from, to) = (f, t.AddDays(1)); break;
            default: range = range == "custom" ? "7d" : range; (from, to) = (day.AddDays(-6), day.AddDays(1)); break;
        }

        var filters = FilterNames.Select(f => (f.Key, Value: Get(f.Key))).Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value!);
        return new ReportQuery(range, from, to, Get("compare") == "previous", filters);
    }

    /// <summary>The query API's range parameters (dates in the site's time zone, end exclusive).</summary>
    public IEnumerable<KeyValuePair<string, string?>> RangeParameters()
    {
        yield return new("from", From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        yield return new("to", To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    }

    /// <summary>The stats API's parameters: range, interval, comparison and every filter.</summary>
    public IEnumerable<KeyValuePair<string, string?>> StatsParameters(int limit = 10)
    {
        foreach (var p in RangeParameters())
        {
            yield return p;
        }

        yield return new("interval", Interval);
        yield return new("limit", limit.ToString(CultureInfo.InvariantCulture));
        if (Compare)
        {
            yield return new("compare", "previous");
        }

        foreach (var (key, value) in Filters)
        {
            yield return new(key, value);
        }
    }

    /// <summary>This page's address with some parameters changed (null removes one).</summary>
    public static string Link(NavigationManager navigation, params (string Key, object? Value)[] changes)
    {
        ArgumentNullException.ThrowIfNull(navigation);
        var uri = navigation.GetUriWithQueryParameters(changes.ToDictionary(c => c.Key, c => c.Value));
        return navigation.ToBaseRelativePath(uri) is var relative ? "/" + relative : uri;
    }

    /// <summary>Adds or replaces a filter; the link a panel's row points at.</summary>
    public static string FilterLink(NavigationManager navigation, string filter, string value) => Link(navigation, (filter, value));

    private static DateOnly? Date(string? value) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
}
