using System.ComponentModel.DataAnnotations;
using Insights.Contracts;
using Microsoft.Extensions.Options;

namespace Insights.Ingest;

/// <summary>The sites and their keys from configuration section <c>Sites</c> (a list), checked at start-up.</summary>
internal static class ConfiguredSites
{
    public const string Section = "Sites";

    public static IServiceCollection AddConfiguredSites(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<List<SiteOptions>>()
            .Bind(configuration.GetSection(Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<List<SiteOptions>>, Validator>();
        services.AddSingleton(provider => new SiteCatalog(provider.GetRequiredService<IOptions<List<SiteOptions>>>().Value));
        return services;
    }

    /// <summary>Each site's annotations under its own key (<c>Sites:0:Id</c>), then the catalog's rules (unique ids and keys).</summary>
    private sealed class Validator : IValidateOptions<List<SiteOptions>>
    {
        public ValidateOptionsResult Validate(string? name, List<SiteOptions> options)
        {
            if (options.Count == 0)
            {
                return ValidateOptionsResult.Fail(
                    $"{Section}: no site is configured, so every request would be refused; add one (the Development environment ships the demo site).");
            }

            var failures = new List<string>();
            for (var i = 0; i < options.Count; i++)
            {
                var results = new List<ValidationResult>();
                if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options[i], new ValidationContext(options[i]), results, validateAllProperties: true))
                {
                    foreach (var result in results)
                    {
                        foreach (var member in result.MemberNames.DefaultIfEmpty(""))
                        {
                            failures.Add($"{Section}:{i}:{member}: {result.ErrorMessage}");
                        }
                    }
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
}
