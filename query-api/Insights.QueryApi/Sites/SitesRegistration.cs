using System.ComponentModel.DataAnnotations;
using Insights.Contracts;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Sites;

public static class SitesRegistration
{
    public const string Section = "Sites";

    /// <summary>The sites and their keys from configuration section <c>Sites</c>, checked when the host starts.</summary>
    public static IServiceCollection AddSiteCatalog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<List<SiteOptions>>().Bind(configuration.GetSection(Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<List<SiteOptions>>, SitesValidator>();
        services.AddSingleton(provider => new SiteCatalog(provider.GetRequiredService<IOptions<List<SiteOptions>>>().Value));
        return services;
    }
}

/// <summary>
/// Fails the start-up, naming the key (<c>Sites:0:TimeZone</c>), for a site the reports could not serve: an invalid
/// id, a time zone this machine does not know (day boundaries would be wrong), a duplicated id or key.
/// </summary>
internal sealed class SitesValidator : IValidateOptions<List<SiteOptions>>
{
    public ValidateOptionsResult Validate(string? name, List<SiteOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Count == 0)
        {
            return ValidateOptionsResult.Fail($"{SitesRegistration.Section}: no site is configured, so there is nothing to report on.");
        }

        var failures = new List<string>();
        for (var i = 0; i < options.Count; i++)
        {
            var site = options[i];
            var prefix = $"{SitesRegistration.Section}:{i}";
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(site, new ValidationContext(site), results, validateAllProperties: true))
            {
                failures.AddRange(results.Select(r => $"{prefix}:{r.MemberNames.FirstOrDefault()}: {r.ErrorMessage}"));
            }

            if (!TimeZoneInfo.TryFindSystemTimeZoneById(site.TimeZone, out _))
            {
                failures.Add($"{prefix}:TimeZone: '{site.TimeZone}' is not an IANA time zone this machine knows (e.g. 'UTC', 'Europe/Berlin').");
            }
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
}
