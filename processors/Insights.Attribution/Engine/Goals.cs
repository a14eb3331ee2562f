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

    public bool MatchesPage(string? url)
    {
        if (Kind != GoalKind.Page || string.IsNullOrEmpty(url))
        {
            return false;
        }

        var target = MatchesFullUrl ? StripQuery(url) : PathOf(url);
        return Glob.IsMatch(Pattern, target);
    }

    /// <summary>The path of an absolute URL (<c>/a/b</c>), without query and fragment; a relative URL is taken as a path.</summary>
    public static ReadOnlySpan<char> PathOf(string url)
    {
        var span = StripQuery(url).AsSpan();
        var scheme = span.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return span;
        }

        var rest = span[(scheme + 3)..];
        var slash = rest.IndexOf('/');
        return slash < 0 ? "/" : rest[slash..];
    }

    private static string StripQuery(string url)
    {
        var cut = url.AsSpan().IndexOfAny('?', '#');
        return cut < 0 ? url : url[..cut];
    }
}

/// <summary><c>*</c>-only globs, case-insensitive; linear backtracking, so a hostile URL cannot make it slow.</summary>
public static class Glob
{
    public static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (p < pattern.Length && char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(text[t]))
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
