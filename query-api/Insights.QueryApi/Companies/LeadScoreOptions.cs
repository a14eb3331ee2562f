using System.ComponentModel.DataAnnotations;

namespace Insights.QueryApi.Companies;

/// <summary>
/// How a company's lead score is computed (section <c>Leads</c>). Every visit (session) earns points — a base for
/// the visit, some per further page view, and the weight of each high-intent page it included (once per visit) —
/// halved for every <see cref="HalfLifeDays"/> between the visit and the end of the report's range. The score is
/// <c>round(100 × (1 − e^(−points / Scale)))</c>: 0 to 100, rising fast for the first visits and saturating, so a
/// company that read the pricing page three times this week outranks one with thirty blog views last month.
/// </summary>
public sealed class LeadScoreOptions : IValidatableObject
{
    public const string Section = "Leads";

    /// <summary>Days a company report covers when the request names no <c>from</c>.</summary>
    [Range(1, 3660)]
    public int DefaultRangeDays { get; set; } = 30;

    /// <summary>Points per visit.</summary>
    [Range(0, 1_000)]
    public double VisitWeight { get; set; } = 10;

    /// <summary>Points per page view after a visit's first, up to <see cref="PageViewCap"/> of them (a crawl-like visit
    /// of 200 pages is not 200 times as interested).</summary>
    [Range(0, 1_000)]
    public double PageViewWeight { get; set; } = 2;

    /// <summary>Page views per visit that earn <see cref="PageViewWeight"/>; further ones earn nothing.</summary>
    [Range(0, 1_000)]
    public int PageViewCap { get; set; } = 10;

    /// <summary>The high-intent pages when none are configured.</summary>
    public static IReadOnlyList<HighIntentPage> DefaultHighIntentPages { get; } =
    [
        new() { Path = "/pricing", Weight = 15 },
        new() { Path = "/plans", Weight = 15 },
        new() { Path = "/contact", Weight = 20 },
        new() { Path = "/demo", Weight = 20 },
        new() { Path = "/signup", Weight = 10 },
        new() { Path = "/checkout", Weight = 10 },
    ];

    /// <summary>
    /// Pages that show buying intent and their points per visit that includes them. A path matches itself and
    /// everything below it (<c>/pricing</c> matches <c>/pricing/enterprise</c>, not <c>/pricingx</c>), without case.
    /// Unset: <see cref="DefaultHighIntentPages"/>. (Null rather than a pre-filled list: the configuration binder
    /// appends to a list it finds, so configured pages would be added to the defaults instead of replacing them.)
    /// </summary>
    public List<HighIntentPage>? HighIntentPages { get; set; }

    internal IReadOnlyList<HighIntentPage> EffectiveHighIntentPages => HighIntentPages ?? DefaultHighIntentPages;

    /// <summary>A visit this many days before the end of the range counts half; twice as old, a quarter.</summary>
    [Range(0.1, 3650)]
    public double HalfLifeDays { get; set; } = 7;

    /// <summary>Points at which the score reaches 63 (of 100). Lower saturates sooner.</summary>
    [Range(1, 1_000_000)]
    public double Scale { get; set; } = 100;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Validated here because DataAnnotations do not descend into the list's items.
        var pages = EffectiveHighIntentPages;
        for (var i = 0; i < pages.Count; i++)
        {
            var page = pages[i];
            if (string.IsNullOrWhiteSpace(page.Path) || !page.Path.StartsWith('/') || page.Path.Length > 500)
            {
                yield return new ValidationResult($"{Section}:HighIntentPages:{i}:Path must be a path starting with '/' (got '{page.Path}')", [nameof(HighIntentPages)]);
            }

            if (page.Weight is < 0 or > 1_000 || double.IsNaN(page.Weight))
            {
                yield return new ValidationResult($"{Section}:HighIntentPages:{i}:Weight must be between 0 and 1000 (got {page.Weight})", [nameof(HighIntentPages)]);
            }
        }

        if (pages.Count > 100)
        {
            yield return new ValidationResult($"{Section}:HighIntentPages: at most 100 pages (got {pages.Count})", [nameof(HighIntentPages)]);
        }
    }

    /// <summary>The paths as the query matches them: lower case, without a trailing slash.</summary>
    internal string[] IntentPaths() => [.. EffectiveHighIntentPages.Select(p => p.Path.Trim().TrimEnd('/').ToLowerInvariant() is { Length: > 0 } path ? path : "/")];

    internal double[] IntentWeights() => [.. EffectiveHighIntentPages.Select(p => p.Weight)];
}

public sealed class HighIntentPage
{
    /// <summary>A path starting with <c>/</c>; it matches itself and everything below it.</summary>
    public string Path { get; set; } = "";

    /// <summary>Points per visit that includes the page (0 to 1000).</summary>
    public double Weight { get; set; }
}
