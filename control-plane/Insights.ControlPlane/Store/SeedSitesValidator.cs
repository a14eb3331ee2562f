using Insights.Contracts;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane.Store;

/// <summary>
/// Fails the start-up, naming the key (<c>Sites:0:TimeZone</c>), for a configured (seeded) site the services could not
/// serve (<see cref="SiteValidation"/>: an invalid id, an unknown time zone, currency rates or goals attribution could
/// not use), a name longer than the store keeps, a duplicated id or key. The control plane checks updated settings by
/// the same rules (<see cref="SiteAdmin"/>). No configured site is fine: sites come from the store.
/// </summary>
internal sealed class SeedSitesValidator : IValidateOptions<List<SiteOptions>>
{
    /// <summary>The longest site name the store keeps (<c>sites.name</c>).</summary>
    public const int MaxNameLength = 200;

    public ValidateOptionsResult Validate(string? name, List<SiteOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        for (var i = 0; i < options.Count; i++)
        {
            failures.AddRange(Check(options[i], $"{SiteCatalogRegistration.Section}:{i}"));
        }

        if (failures.Count == 0)
        {
            try
            {
                _ = new SiteCatalog(options);
            }
            catch (InvalidOperationException error)
            {
                failures.Add(error.Message);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>One site's problems, each prefixed with <paramref name="prefix"/> (a configuration key or <c>settings</c>).</summary>
    public static IEnumerable<string> Check(SiteOptions site, string prefix)
    {
        ArgumentNullException.ThrowIfNull(site);
        foreach (var problem in SiteValidation.Check(site, prefix))
        {
            yield return problem;
        }

        if (site.Name.Length > MaxNameLength)
        {
            yield return $"{prefix}:Name: at most {MaxNameLength} characters, got {site.Name.Length}";
        }
    }
}
