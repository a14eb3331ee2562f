using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Insights.Contracts;

/// <summary>How every service gets its <see cref="SiteCatalog"/>: one registration, one set of start-up checks.</summary>
public static class SiteCatalogRegistration
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
/// Fails the start-up, naming the key (<c>Sites:0:TimeZone</c>), for a site the services could not serve: none at
/// all (every request would be refused), an invalid id, a time zone this machine does not know (report day
/// boundaries would be wrong), a duplicated id or key.
/// </summary>
internal sealed class SitesValidator : IValidateOptions<List<SiteOptions>>
{
    public ValidateOptionsResult Validate(string? name, List<SiteOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Count == 0)
        {
            return ValidateOptionsResult.Fail(
                $"{SiteCatalogRegistration.Section}: no site is configured, so every request would be refused; add one " +
                "(the Development environment ships the demo site).");
        }

        var failures = new List<string>();
        for (var i = 0; i < options.Count; i++)
        {
            var site = options[i];
            var prefix = $"{SiteCatalogRegistration.Section}:{i}";
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
