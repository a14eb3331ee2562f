using System.Text.RegularExpressions;

namespace Insights.Contracts;

/// <summary>
/// A proactive chat invitation rule of a site (<see cref="SiteOptions.Invitations"/>): when <see cref="When"/> holds for
/// a present visitor, live presence either highlights the visitor to agents (<c>suggest</c>) or invites them with
/// <see cref="Message"/> (<c>auto_invite</c>). A rule fires at most once per visit, never while the visitor chats, and
/// not for <see cref="DeclineCooldownDays"/> days after the visitor declined one of its invitations.
/// </summary>
public sealed class InvitationRule
{
    /// <summary>Stable id: the funnel report and the visitor's responses are kept under it.</summary>
    public string Id { get; set; } = "";

    /// <summary>What agents see as the reason (<c>Pricing page, target account</c>).</summary>
    public string Name { get; set; } = "";

    /// <summary>Off keeps the rule (and its funnel history) without evaluating it.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary><c>suggest</c> or <c>auto_invite</c>.</summary>
    public string Action { get; set; } = InvitationActions.Suggest;

    /// <summary><c>auto_invite</c>: what the invitation says (plain text, at most <see cref="InvitationRuleLimits.MaxMessageLength"/> characters).</summary>
    public string? Message { get; set; }

    /// <summary>The condition tree; an empty one holds for every visitor.</summary>
    public InvitationCondition When { get; set; } = new();

    /// <summary>Evaluated from this time on (inclusive); null for always.</summary>
    public DateTimeOffset? ActiveFrom { get; set; }

    /// <summary>Evaluated until this time (exclusive); null for always.</summary>
    public DateTimeOffset? ActiveUntil { get; set; }

    /// <summary>Days after a visitor declined this rule's invitation in which it does not invite them again; 0 for no pause.</summary>
    public int DeclineCooldownDays { get; set; } = 7;

    /// <summary>True when the rule is enabled and <paramref name="now"/> is inside its active window.</summary>
    public bool IsActive(DateTimeOffset now) => Enabled && (ActiveFrom is not { } from || now >= from) && (ActiveUntil is not { } until || now < until);
}

/// <summary>
/// A node of a rule's condition tree: a group (<see cref="All"/>: every child holds; <see cref="Any"/>: one does) or a
/// leaf of one <see cref="Kind"/> (<see cref="InvitationConditionKinds"/>) with the fields that kind reads.
/// </summary>
public sealed class InvitationCondition
{
    /// <summary>AND group.</summary>
    public List<InvitationCondition>? All { get; set; }

    /// <summary>OR group.</summary>
    public List<InvitationCondition>? Any { get; set; }

    /// <summary>A leaf's kind; null for a group.</summary>
    public string? Kind { get; set; }

    /// <summary>The least value (seconds, page views, visits, lead score).</summary>
    public double? Min { get; set; }

    /// <summary>A URL pattern: a path (<c>/pricing</c>) or full URL; <c>*</c> matches anything, case-insensitive, query and fragment ignored.</summary>
    public string? Pattern { get; set; }

    /// <summary><c>url_funnel</c>: the patterns, visited in this order during the visit.</summary>
    public List<string>? Patterns { get; set; }

    /// <summary>Any of these (case-insensitive): channels, campaign names, search keywords (contained), countries, cities, device types, property values.</summary>
    public List<string>? Values { get; set; }

    /// <summary><c>property</c>: the live property's name (sent in a track event's <c>live</c> object).</summary>
    public string? Property { get; set; }

    /// <summary>Leaves in this subtree, groups included (bounded by validation).</summary>
    public int Count() => 1 + (All?.Sum(c => c?.Count() ?? 1) ?? 0) + (Any?.Sum(c => c?.Count() ?? 1) ?? 0);
}

/// <summary>What a rule does when its condition holds.</summary>
public static class InvitationActions
{
    public const string Suggest = "suggest";
    public const string AutoInvite = "auto_invite";
}

/// <summary>The condition kinds (issue 10 §4).</summary>
public static class InvitationConditionKinds
{
    public const string TimeOnSite = "time_on_site";
    public const string TimeOnPage = "time_on_page";
    public const string CurrentUrl = "current_url";
    public const string VisitedUrl = "visited_url";
    public const string UrlFunnel = "url_funnel";
    public const string PagesViewed = "pages_viewed";
    public const string Visits = "visits";
    public const string Referrer = "referrer";
    public const string Channel = "channel";
    public const string Campaign = "campaign";
    public const string SearchKeyword = "search_keyword";
    public const string Country = "country";
    public const string City = "city";
    public const string Device = "device";
    public const string CompanyIdentified = "company_identified";
    public const string TargetAccount = "target_account";
    public const string LeadScore = "lead_score";
    public const string ExitIntent = "exit_intent";
    public const string Property = "property";

    public static IReadOnlyList<string> All { get; } =
    [
        TimeOnSite, TimeOnPage, CurrentUrl, VisitedUrl, UrlFunnel, PagesViewed, Visits, Referrer, Channel, Campaign, SearchKeyword,
        Country, City, Device, CompanyIdentified, TargetAccount, LeadScore, ExitIntent, Property,
    ];

    /// <summary>Kinds that compare a number (<see cref="InvitationCondition.Min"/>).</summary>
    public static IReadOnlySet<string> Numeric { get; } = new HashSet<string>(StringComparer.Ordinal) { TimeOnSite, TimeOnPage, PagesViewed, Visits, LeadScore };

    /// <summary>Kinds that match one of <see cref="InvitationCondition.Values"/>.</summary>
    public static IReadOnlySet<string> Listed { get; } = new HashSet<string>(StringComparer.Ordinal) { Channel, Campaign, SearchKeyword, Country, City, Device, Property };

    /// <summary>Kinds that match <see cref="InvitationCondition.Pattern"/>.</summary>
    public static IReadOnlySet<string> Patterned { get; } = new HashSet<string>(StringComparer.Ordinal) { CurrentUrl, VisitedUrl, Referrer };
}

/// <summary>Bounds of a site's rules: every rule is evaluated for every present visitor once a second.</summary>
public static class InvitationRuleLimits
{
    public const int MaxRules = 50;
    public const int MaxConditions = 32;
    public const int MaxDepth = 4;
    public const int MaxMessageLength = 500;
    public const int MaxNameLength = 120;
    public const int MaxPatternLength = 512;
    public const int MaxValues = 50;
    public const int MaxValueLength = 200;
    public const int MaxFunnelSteps = 10;
    public const int MaxCooldownDays = 365;

    /// <summary>Live properties: names a track event may put in its <c>live</c> object, and what each value may be.</summary>
    public const int MaxPropertyNameLength = 40;
}

/// <summary>
/// URL patterns as goals and invitation rules use them: a path (<c>/pricing</c>, <c>/checkout/*</c>) is matched against
/// the URL's path, a pattern with a scheme against the whole URL; <c>*</c> matches anything, case-insensitive, query
/// and fragment ignored. Matching backtracks linearly, so a hostile URL cannot make it slow.
/// </summary>
public static class UrlPattern
{
    public static bool Matches(string pattern, string? url)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (string.IsNullOrEmpty(url))
        {
            return false;
        }

        var trimmed = pattern.Trim();
        return trimmed.Contains("://", StringComparison.Ordinal)
            ? Glob(StripQuery(trimmed), StripQuery(url))
            : Glob(trimmed, PathOf(url));
    }

    /// <summary>The path of an absolute URL (<c>/a/b</c>), without query and fragment; a relative URL is taken as a path.</summary>
    public static ReadOnlySpan<char> PathOf(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var span = StripQuery(url);
        var scheme = span.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return span;
        }

        var rest = span[(scheme + 3)..];
        var slash = rest.IndexOf('/');
        return slash < 0 ? "/" : rest[slash..];
    }

    /// <summary><c>*</c>-only globs, case-insensitive.</summary>
    public static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
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

    private static ReadOnlySpan<char> StripQuery(string url)
    {
        var cut = url.AsSpan().IndexOfAny('?', '#');
        return cut < 0 ? url : url.AsSpan(0, cut);
    }
}

/// <summary>The checks of a site's invitation rules, called by <see cref="SiteValidation.Check"/>.</summary>
public static partial class InvitationRuleValidation
{
    public static IEnumerable<string> Check(IReadOnlyList<InvitationRule?> rules, string prefix)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (rules.Count > InvitationRuleLimits.MaxRules)
        {
            yield return $"{prefix}:Invitations: at most {InvitationRuleLimits.MaxRules} rules per site (this list has {rules.Count})";
            yield break;
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var r = 0; r < rules.Count; r++)
        {
            var key = $"{prefix}:Invitations:{r}";
            if (rules[r] is not { } rule)
            {
                yield return $"{key}: a rule cannot be null";
                continue;
            }

            if (!Id().IsMatch(rule.Id ?? ""))
            {
                yield return $"{key}:Id: must be 1-63 lowercase letters, digits, '-' or '_'";
            }
            else if (rule.Id == "agent")
            {
                yield return $"{key}:Id: 'agent' is reserved (the funnel's row for agents' own invitations)";
            }
            else if (!ids.Add(rule.Id!))
            {
                yield return $"{key}:Id: the rule id '{rule.Id}' is used twice in this site";
            }

            if (string.IsNullOrWhiteSpace(rule.Name) || rule.Name.Length > InvitationRuleLimits.MaxNameLength || rule.Name.Any(char.IsControl))
            {
                yield return $"{key}:Name: a name of 1-{InvitationRuleLimits.MaxNameLength} characters without control characters (agents see it as the reason)";
            }

            switch (rule.Action)
            {
                case InvitationActions.Suggest:
                    break;
                case InvitationActions.AutoInvite when string.IsNullOrWhiteSpace(rule.Message) || rule.Message.Length > InvitationRuleLimits.MaxMessageLength:
                    yield return $"{key}:Message: an auto_invite rule needs a message of 1-{InvitationRuleLimits.MaxMessageLength} characters";
                    break;
                case InvitationActions.AutoInvite:
                    break;
                default:
                    yield return $"{key}:Action: '{Shorten(rule.Action)}' is not one of suggest, auto_invite";
                    break;
            }

            if (rule.Message is { Length: > InvitationRuleLimits.MaxMessageLength })
            {
                yield return $"{key}:Message: at most {InvitationRuleLimits.MaxMessageLength} characters";
            }

            if (rule.ActiveFrom is { } from && rule.ActiveUntil is { } until && until <= from)
            {
                yield return $"{key}:ActiveUntil: must be after ActiveFrom";
            }

            if (rule.DeclineCooldownDays is < 0 or > InvitationRuleLimits.MaxCooldownDays)
            {
                yield return $"{key}:DeclineCooldownDays: 0-{InvitationRuleLimits.MaxCooldownDays} days";
            }

            if (rule.When is null)
            {
                yield return $"{key}:When: the condition cannot be null (an empty object holds for everyone)";
                continue;
            }

            var count = rule.When.Count();
            if (count > InvitationRuleLimits.MaxConditions)
            {
                yield return $"{key}:When: at most {InvitationRuleLimits.MaxConditions} conditions and groups per rule (this one has {count})";
                continue;
            }

            foreach (var problem in CheckCondition(rule.When, $"{key}:When", 1))
            {
                yield return problem;
            }
        }
    }

    private static IEnumerable<string> CheckCondition(InvitationCondition? c, string key, int depth)
    {
        if (c is null)
        {
            yield return $"{key}: a condition cannot be null";
            yield break;
        }

        if (depth > InvitationRuleLimits.MaxDepth)
        {
            yield return $"{key}: groups nest at most {InvitationRuleLimits.MaxDepth} deep";
            yield break;
        }

        var isGroup = c.All is not null || c.Any is not null;
        if (isGroup)
        {
            if (c.Kind is not null || (c.All is not null && c.Any is not null))
            {
                yield return $"{key}: a node is either a group (all or any) or a condition (kind), not both";
                yield break;
            }

            var children = c.All ?? c.Any!;
            var name = c.All is not null ? "All" : "Any";
            for (var i = 0; i < children.Count; i++)
            {
                foreach (var problem in CheckCondition(children[i], $"{key}:{name}:{i}", depth + 1))
                {
                    yield return problem;
                }
            }

            yield break;
        }

        if (c.Kind is null)
        {
            // The empty condition: holds for every visitor.
            yield break;
        }

        if (!InvitationConditionKinds.All.Contains(c.Kind))
        {
            yield return $"{key}:Kind: '{Shorten(c.Kind)}' is not one of {string.Join(", ", InvitationConditionKinds.All)}";
            yield break;
        }

        if (InvitationConditionKinds.Numeric.Contains(c.Kind) && (c.Min is not { } min || !double.IsFinite(min) || min < 0 || min > 10_000_000))
        {
            yield return $"{key}:Min: a {c.Kind} condition needs a least value from 0 to 10000000";
        }

        if (c.Kind == InvitationConditionKinds.LeadScore && c.Min is > 100)
        {
            yield return $"{key}:Min: lead scores run 0-100";
        }

        if (InvitationConditionKinds.Patterned.Contains(c.Kind) && !IsPattern(c.Pattern))
        {
            yield return $"{key}:Pattern: a {c.Kind} condition needs a URL pattern of 1-{InvitationRuleLimits.MaxPatternLength} characters (like /pricing or https://shop.example/checkout/*), no spaces or control characters";
        }

        if (c.Kind == InvitationConditionKinds.VisitedUrl && IsPattern(c.Pattern) && !IsPathPattern(c.Pattern!))
        {
            yield return $"{key}:Pattern: visited_url matches the paths of the visit: a path pattern like /pricing or /docs/*";
        }

        if (c.Kind == InvitationConditionKinds.UrlFunnel)
        {
            if (c.Patterns is not { Count: >= 2 } steps || steps.Count > InvitationRuleLimits.MaxFunnelSteps)
            {
                yield return $"{key}:Patterns: a url_funnel needs 2-{InvitationRuleLimits.MaxFunnelSteps} URL patterns, in the order visited";
            }
            else if (!steps.All(step => IsPattern(step) && IsPathPattern(step)))
            {
                yield return $"{key}:Patterns: every step is a path pattern (like /pricing or /docs/*) of 1-{InvitationRuleLimits.MaxPatternLength} characters, no spaces or control characters";
            }
        }

        if (InvitationConditionKinds.Listed.Contains(c.Kind))
        {
            if (c.Values is not { Count: > 0 } values || values.Count > InvitationRuleLimits.MaxValues)
            {
                yield return $"{key}:Values: a {c.Kind} condition needs 1-{InvitationRuleLimits.MaxValues} values";
            }
            else if (!values.All(v => !string.IsNullOrWhiteSpace(v) && v.Length <= InvitationRuleLimits.MaxValueLength && !v.Any(char.IsControl)))
            {
                yield return $"{key}:Values: each value is 1-{InvitationRuleLimits.MaxValueLength} characters without control characters";
            }
        }

        if (c.Kind == InvitationConditionKinds.Property && !IsPropertyName(c.Property))
        {
            yield return $"{key}:Property: the live property's name, 1-{InvitationRuleLimits.MaxPropertyNameLength} lowercase letters, digits or '_'";
        }
    }

    /// <summary>A live property name (<see cref="LiveEvent.Properties"/>): 1-40 of a-z, 0-9, '_'.</summary>
    public static bool IsPropertyName(string? name) => name is { Length: > 0 and <= InvitationRuleLimits.MaxPropertyNameLength } && PropertyName().IsMatch(name);

    private static bool IsPattern(string? pattern) =>
        pattern is { Length: > 0 and <= InvitationRuleLimits.MaxPatternLength } && !pattern.Any(c => char.IsControl(c) || char.IsWhiteSpace(c));

    private static bool IsPathPattern(string pattern) => pattern[0] is '/' or '*';

    private static string Shorten(string? value) => value is null ? "" : value.Length <= 80 ? value : value[..80] + "…";

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,62}$")]
    private static partial Regex Id();

    [GeneratedRegex("^[a-z0-9_]+$")]
    private static partial Regex PropertyName();
}
