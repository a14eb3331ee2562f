using System.Globalization;
using Insights.Contracts;

namespace Insights.QueryApi.Live.Invitations;

/// <summary>
/// Whether a rule's condition holds for a visitor now, and the words for it. Pure: the same visitor state and time give
/// the same answer on every instance, so every instance decides alike.
/// </summary>
public static class RuleEvaluator
{
    /// <summary>
    /// True when the rule can start to hold with nothing but time passing: a time-on-site or time-on-page condition, or
    /// an active window. Other rules change only with the visitor's events (or the rules, or the declines looked up).
    /// </summary>
    public static bool WatchesClock(InvitationRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return rule.ActiveFrom is not null || rule.ActiveUntil is not null || (rule.When is { } when && WatchesClock(when));
    }

    private static bool WatchesClock(InvitationCondition c) =>
        c.Kind is InvitationConditionKinds.TimeOnSite or InvitationConditionKinds.TimeOnPage
        || (c.All?.Exists(child => child is not null && WatchesClock(child)) ?? false)
        || (c.Any?.Exists(child => child is not null && WatchesClock(child)) ?? false);

    /// <summary>True when <paramref name="c"/> holds for <paramref name="v"/> at <paramref name="now"/>.</summary>
    public static bool Holds(InvitationCondition c, PresentVisitor v, SiteOptions site, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(site);
        if (c.All is { } all)
        {
            return all.TrueForAll(child => Holds(child, v, site, now));
        }

        if (c.Any is { } any)
        {
            return any.Exists(child => Holds(child, v, site, now));
        }

        var memory = v.Invitations;
        return c.Kind switch
        {
            null => true,
            InvitationConditionKinds.TimeOnSite => (now - v.VisitStartedAt).TotalSeconds >= c.Min,
            InvitationConditionKinds.TimeOnPage => (now - v.PageSince).TotalSeconds >= c.Min,
            InvitationConditionKinds.CurrentUrl => UrlPattern.Matches(c.Pattern!, v.Page?.Url ?? v.Page?.Path),
            InvitationConditionKinds.VisitedUrl => v.Pages.Exists(path => UrlPattern.Matches(c.Pattern!, path)),
            InvitationConditionKinds.UrlFunnel => InOrder(c.Patterns!, v.Pages),
            InvitationConditionKinds.PagesViewed => v.PageViews >= c.Min,
            InvitationConditionKinds.Visits => v.Visits >= c.Min,
            InvitationConditionKinds.Referrer => UrlPattern.Matches(c.Pattern!, v.Referrer),
            InvitationConditionKinds.Channel => OneOf(c.Values!, v.Channel),
            InvitationConditionKinds.Campaign => OneOf(c.Values!, v.Campaign?.Name),
            InvitationConditionKinds.SearchKeyword => v.Campaign?.Term is { } term && c.Values!.Exists(k => term.Contains(k, StringComparison.OrdinalIgnoreCase)),
            InvitationConditionKinds.Country => OneOf(c.Values!, v.Geo?.Country),
            InvitationConditionKinds.City => OneOf(c.Values!, v.Geo?.City),
            InvitationConditionKinds.Device => OneOf(c.Values!, v.Device?.Type),
            InvitationConditionKinds.CompanyIdentified => v.Company is not null,
            InvitationConditionKinds.TargetAccount => site.IsTargetAccount(v.Company?.Domain),
            InvitationConditionKinds.LeadScore => v.Score >= c.Min,
            InvitationConditionKinds.ExitIntent => memory?.ExitIntentPage is { } page && page == v.Page?.Path,
            InvitationConditionKinds.Property => memory is not null && memory.Properties.TryGetValue(c.Property!, out var value) && OneOf(c.Values!, value),
            _ => false,
        };
    }

    /// <summary>The condition in words, for agents (<c>time on site ≥ 30 s and current page /pricing</c>).</summary>
    public static string Describe(InvitationCondition c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.All is { } all)
        {
            return all.Count == 0 ? "everyone" : string.Join(" and ", all.Select(child => Group(child, " and ")));
        }

        if (c.Any is { } any)
        {
            return any.Count == 0 ? "no one" : string.Join(" or ", any.Select(child => Group(child, " or ")));
        }

        var min = c.Min?.ToString("0.##", CultureInfo.InvariantCulture);
        var values = c.Values is { } list ? string.Join(", ", list) : "";
        return c.Kind switch
        {
            null => "everyone",
            InvitationConditionKinds.TimeOnSite => $"time on site ≥ {min} s",
            InvitationConditionKinds.TimeOnPage => $"time on page ≥ {min} s",
            InvitationConditionKinds.CurrentUrl => $"on {c.Pattern}",
            InvitationConditionKinds.VisitedUrl => $"visited {c.Pattern}",
            InvitationConditionKinds.UrlFunnel => $"visited {string.Join(" → ", c.Patterns!)}",
            InvitationConditionKinds.PagesViewed => $"{min}+ pages viewed",
            InvitationConditionKinds.Visits => $"{min}+ visits",
            InvitationConditionKinds.Referrer => $"came from {c.Pattern}",
            InvitationConditionKinds.Channel => $"channel {values}",
            InvitationConditionKinds.Campaign => $"campaign {values}",
            InvitationConditionKinds.SearchKeyword => $"searched {values}",
            InvitationConditionKinds.Country => $"in {values}",
            InvitationConditionKinds.City => $"in {values}",
            InvitationConditionKinds.Device => $"on {values}",
            InvitationConditionKinds.CompanyIdentified => "company identified",
            InvitationConditionKinds.TargetAccount => "target account",
            InvitationConditionKinds.LeadScore => $"lead score ≥ {min}",
            InvitationConditionKinds.ExitIntent => "about to leave",
            InvitationConditionKinds.Property => $"{c.Property} is {values}",
            _ => c.Kind,
        };
    }

    private static string Group(InvitationCondition child, string joiner)
    {
        var text = Describe(child);
        var nested = (child.All is { Count: > 1 } && joiner == " or ") || (child.Any is { Count: > 1 } && joiner == " and ");
        return nested ? $"({text})" : text;
    }

    private static bool OneOf(List<string> values, string? actual) =>
        actual is not null && values.Exists(value => string.Equals(value, actual, StringComparison.OrdinalIgnoreCase));

    /// <summary>The patterns matched by paths of the visit in this order (not necessarily one right after another).</summary>
    private static bool InOrder(List<string> patterns, List<string> pages)
    {
        var step = 0;
        foreach (var path in pages)
        {
            if (step < patterns.Count && UrlPattern.Matches(patterns[step], path))
            {
                step++;
            }
        }

        return step == patterns.Count;
    }
}
