using System.ComponentModel.DataAnnotations;

namespace Insights.Contracts;

/// <summary>
/// The one set of rules a site's settings must meet, wherever they come from (a configured seed at start-up, an update
/// through the control plane): what the services could not serve correctly is refused before it is stored, so no
/// setting can later stop a consumer that builds its rules from it.
/// </summary>
public static class SiteValidation
{
    /// <summary>Largest magnitude a <c>Decimal(18,4)</c> money column holds.</summary>
    public const decimal MaxAmount = 99_999_999_999_999.9999m;

    /// <summary>Most domains a site's target-account list may hold (<see cref="SiteOptions.TargetAccounts"/>).</summary>
    public const int MaxTargetAccounts = 10_000;

    /// <summary>The goal kinds the attribution engine matches (<see cref="SiteGoal.Kind"/>).</summary>
    public static IReadOnlyList<string> GoalKinds { get; } = ["page", "event", "chat_started", "order_placed"];

    /// <summary>Each problem of <paramref name="site"/>, prefixed with <paramref name="prefix"/> (<c>Sites:0</c> or <c>settings</c>).</summary>
    public static IEnumerable<string> Check(SiteOptions site, string prefix)
    {
        ArgumentNullException.ThrowIfNull(site);
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(site, new ValidationContext(site), results, validateAllProperties: true))
        {
            foreach (var result in results)
            {
                yield return $"{prefix}:{result.MemberNames.FirstOrDefault()}: {result.ErrorMessage}";
            }
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(site.TimeZone, out _))
        {
            yield return $"{prefix}:TimeZone: '{site.TimeZone}' is not an IANA time zone this machine knows (e.g. 'UTC', 'Europe/Berlin').";
        }

        foreach (var (currency, rate) in site.CurrencyRates)
        {
            if (currency.Length != 3 || !currency.All(char.IsAsciiLetter))
            {
                yield return $"{prefix}:CurrencyRates:{currency}: not an ISO 4217 currency code";
            }
            else if (rate <= 0 || rate > 1_000_000)
            {
                yield return $"{prefix}:CurrencyRates:{currency}: the rate must be a positive number of {site.ReportingCurrency} per {currency.ToUpperInvariant()}";
            }
        }

        if (site.TargetAccounts.Count > MaxTargetAccounts)
        {
            yield return $"{prefix}:TargetAccounts: at most {MaxTargetAccounts} domains (this list has {site.TargetAccounts.Count})";
        }

        foreach (var domain in site.TargetAccounts.Take(MaxTargetAccounts))
        {
            if (!IsDomain(domain))
            {
                yield return $"{prefix}:TargetAccounts: '{Shorten(domain)}' is not a web domain; list domains like acme.com (no scheme, path or wildcard)";
            }
        }

        foreach (var problem in InvitationRuleValidation.Check(site.Invitations ?? [], prefix).Concat(AlertKinds.Check(site.Alerts, prefix)))
        {
            yield return problem;
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var g = 0; g < site.Goals.Count; g++)
        {
            var goal = site.Goals[g];
            var key = $"{prefix}:Goals:{g}";
            var goalResults = new List<ValidationResult>();
            if (!Validator.TryValidateObject(goal, new ValidationContext(goal), goalResults, validateAllProperties: true))
            {
                foreach (var result in goalResults)
                {
                    yield return $"{key}:{result.MemberNames.FirstOrDefault()}: {result.ErrorMessage}";
                }

                continue;
            }

            if (!ids.Add(goal.Id))
            {
                yield return $"{key}:Id: the goal id '{goal.Id}' is used twice in this site";
            }

            switch (goal.Kind)
            {
                case var kind when !GoalKinds.Contains(kind):
                    yield return $"{key}:Kind: '{goal.Kind}' is not one of {string.Join(", ", GoalKinds)}";
                    break;
                case "page" when string.IsNullOrWhiteSpace(goal.UrlPattern) || goal.UrlPattern.Length > 2048:
                    yield return $"{key}:UrlPattern: a page goal needs a path or URL pattern (at most 2048 characters), like /thank-you or /checkout/*";
                    break;
                case "event" when string.IsNullOrWhiteSpace(goal.EventName):
                    yield return $"{key}:EventName: an event goal needs the custom event's name";
                    break;
            }

            if (goal.Value is { } value && (value < 0 || value > MaxAmount))
            {
                yield return $"{key}:Value: must be zero or more";
            }
        }
    }

    /// <summary>A lower- or upper-case DNS name of two or more labels (letters, digits, hyphens), at most 253 characters.</summary>
    private static bool IsDomain(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 253)
        {
            return false;
        }

        var labels = value.Split('.');
        return labels.Length >= 2 && labels.All(label => label.Length is > 0 and <= 63
            && label[0] != '-' && label[^1] != '-' && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
    }

    private static string Shorten(string? value) => value is null ? "" : value.Length <= 80 ? value : value[..80] + "…";
}
