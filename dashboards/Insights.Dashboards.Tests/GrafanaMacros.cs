using System.Text.RegularExpressions;

namespace Insights.Dashboards.Tests;

/// <summary>
/// What the grafana-clickhouse-datasource plugin and Grafana's template engine turn a panel's SQL into, for exactly the
/// macros and variables the boards use, with literal values. Anything else left with a <c>$</c> is an error, so a board
/// that starts using a macro this does not know fails the test instead of being skipped.
/// </summary>
public sealed partial class GrafanaMacros(DateTimeOffset from, DateTimeOffset to, TimeSpan interval, IReadOnlyDictionary<string, string> variables)
{
    public string Expand(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var seconds = (long)interval.TotalSeconds;
        var expanded = TimeFilter().Replace(sql, m =>
            $"{m.Groups[1].Value} >= toDateTime({from.ToUnixTimeSeconds()}) AND {m.Groups[1].Value} <= toDateTime({to.ToUnixTimeSeconds()})");
        expanded = TimeInterval().Replace(expanded, m => $"toStartOfInterval(toDateTime({m.Groups[1].Value}), INTERVAL {seconds} second)");
        expanded = expanded
            .Replace("$__fromTime", $"toDateTime({from.ToUnixTimeSeconds()})", StringComparison.Ordinal)
            .Replace("$__toTime", $"toDateTime({to.ToUnixTimeSeconds()})", StringComparison.Ordinal);
        expanded = Variable().Replace(expanded, m => variables.TryGetValue(m.Groups[1].Value, out var value)
            ? value
            : throw new InvalidOperationException($"the board uses ${{{m.Groups[1].Value}}}, which the test gives no value"));
        var left = expanded.IndexOf('$', StringComparison.Ordinal);
        if (left >= 0)
        {
            throw new InvalidOperationException($"unexpanded macro at '{expanded[left..Math.Min(expanded.Length, left + 30)]}'");
        }

        return expanded;
    }

    [GeneratedRegex(@"\$__timeFilter\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)")]
    private static partial Regex TimeFilter();

    [GeneratedRegex(@"\$__timeInterval\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)")]
    private static partial Regex TimeInterval();

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Variable();
}
