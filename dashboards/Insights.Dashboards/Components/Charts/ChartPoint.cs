namespace Insights.Dashboards.Components.Charts;

/// <summary>One value of a chart: its label (a day, an hour, a step) and the number.</summary>
public readonly record struct ChartPoint(string Label, double Value);

/// <summary>Geometry shared by the SVG charts: a "nice" top of the scale so gridlines land on round numbers.</summary>
public static class ChartScale
{
    public static double NiceMax(double max)
    {
        if (max <= 0)
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(max)));
        var step = max / magnitude;
        var nice = step <= 1 ? 1 : step <= 2 ? 2 : step <= 2.5 ? 2.5 : step <= 5 ? 5 : 10;
        return nice * magnitude;
    }

    /// <summary>Invariant number for SVG coordinates.</summary>
    public static string N(double value) => Math.Round(value, 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
