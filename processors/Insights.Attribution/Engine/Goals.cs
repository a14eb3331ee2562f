using Insights.Contracts;

namespace Insights.Attribution.Engine;

/// <summary>What completes a goal.</summary>
public enum GoalKind
{
    Page,
    Event,
    ChatStarted,
    OrderPlaced,
}

/// <summary>A site goal ready to match events: its kind parsed and its URL pattern prepared once.</summary>
public sealed class GoalRule
{
    public GoalRule(SiteGoal goal)
    {
        ArgumentNullException.ThrowIfNull(goal);
        Id = goal.Id;
        Value = goal.Value;
        Kind = ParseKind(goal.Kind) ?? throw new ArgumentException($"Unknown goal kind '{goal.Kind}'.", nameof(goal));
        EventName = goal.EventName ?? "";
        var pattern = (goal.UrlPattern ?? "").Trim();
        MatchesFullUrl = pattern.Contains("://", StringComparison.Ordinal);
        Pattern = MatchesFullUrl ? StripQuery(pattern) : pattern;
    }

    public string Id { get; }

    public GoalKind Kind { get; }

    public decimal? Value { get; }

    public string EventName { get; }

    /// <summary>The glob, matched against the whole URL (without query and fragment) when it names a scheme, else the path.</summary>
    public string Pattern { get; }

    public bool MatchesFullUrl { get; }

    /// <summary>The configuration spelling of each kind.</summary>
    public static GoalKind? ParseKind(string? kind) => kind switch
    {
        "page" => GoalKind.Page,
        "event" => GoalKind.Event,
        "chat_started" => GoalKind.ChatStarted,
        "order_placed" => GoalKind.OrderPlaced,
        _ => null,
    };

    /// <summary>True for a page goal whose pattern matches <paramref name="url"/> (the one URL-pattern rule: <see cref="UrlPattern"/>).</summary>
    public bool MatchesPage(string? url) => Kind == GoalKind.Page && UrlPattern.Matches(Pattern, url);

    private static string StripQuery(string url)
    {
        var cut = url.AsSpan().IndexOfAny('?', '#');
        return cut < 0 ? url : url[..cut];
    }
}
