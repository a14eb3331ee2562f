using System.Globalization;

namespace Insights.Dashboards.Components.Shared;

/// <summary>How numbers read on every page: the same rounding and units everywhere.</summary>
public static class Format
{
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    /// <summary>1234 → 1,234; 12345 → 12.3k; 1234567 → 1.2M.</summary>
    public static string Count(double value) => Math.Abs(value) switch
    {
        >= 1_000_000 => (value / 1_000_000).ToString("0.#", Culture) + "M",
        >= 10_000 => (value / 1_000).ToString("0.#", Culture) + "k",
        < 10 when value % 1 != 0 => value.ToString("0.#", Culture), // a chart's half-way line at 0.5, not a second "1"
        _ => value.ToString("#,0", Culture),
    };

    /// <summary>An exact count, for tables and screen readers.</summary>
    public static string Exact(double value) => value.ToString("#,0.##", Culture);

    public static string Percent(double? share) => share is { } s ? (s * 100).ToString("0.#", Culture) + " %" : "–";

    public static string Duration(double? seconds) => seconds switch
    {
        null => "–",
        < 60 => Math.Round(seconds.Value).ToString(Culture) + " s",
        < 3600 => $"{(int)(seconds.Value / 60)} min {(int)(seconds.Value % 60)} s",
        _ => $"{(int)(seconds.Value / 3600)} h {(int)(seconds.Value % 3600 / 60)} min",
    };

    public static string Money(decimal amount, string currency) => amount.ToString("#,0.00", Culture) + " " + currency;

    /// <summary>A relative change as "+12 %" / "−5 %"; null (nothing to compare with) as "new".</summary>
    public static string Change(double? change, bool points = false) => change switch
    {
        null => "new",
        var c when points => (c.Value >= 0 ? "+" : "−") + Math.Abs(c.Value * 100).ToString("0.#", Culture) + " pts",
        var c => (c.Value >= 0 ? "+" : "−") + Math.Abs(c.Value * 100).ToString("0", Culture) + " %",
    };

    public static string Date(DateTimeOffset value) => value.ToString("d MMM yyyy", Culture);

    public static string DateTime(DateTimeOffset value) => value.ToString("d MMM yyyy, HH:mm", Culture);

    public static string Ago(DateTimeOffset value, DateTimeOffset now) => (now - value) switch
    {
        var d when d < TimeSpan.FromMinutes(1) => "just now",
        var d when d < TimeSpan.FromHours(1) => $"{(int)d.TotalMinutes} min ago",
        var d when d < TimeSpan.FromDays(1) => $"{(int)d.TotalHours} h ago",
        var d => $"{(int)d.TotalDays} d ago",
    };
}
