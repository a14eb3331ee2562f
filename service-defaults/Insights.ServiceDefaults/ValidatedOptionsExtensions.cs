using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Insights.ServiceDefaults;

public static class ValidatedOptionsExtensions
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> to <paramref name="sectionName"/> and checks its DataAnnotations
    /// ([Required], [Range], [Url] ...) when the host starts, so a bad setting stops the host with
    /// <see cref="OptionsValidationException"/> naming the key, e.g.
    /// <c>Ingest:MaxBatchEvents must be between 1 and 5000, got 0</c>.
    /// </summary>
    /// <remarks>
    /// Messages quote the rejected value; mark a secret with <c>[DataType(DataType.Password)]</c> to keep it out.
    /// </remarks>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(
        this IServiceCollection services, IConfiguration configuration, string sectionName)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionName);

        var section = configuration.GetSection(sectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>>(
            new ConfigurationKeyValidator<TOptions>(section.Path)));
        return services.AddOptions<TOptions>().Bind(section).ValidateOnStart();
    }

    /// <summary>
    /// As <see cref="AddValidatedOptions{TOptions}"/>, plus <typeparamref name="TValidator"/> for rules that span
    /// settings. Its failures are reported together with the DataAnnotations ones, so it should name keys too.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(
        this IServiceCollection services, IConfiguration configuration, string sectionName)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return services.AddValidatedOptions<TOptions>(configuration, sectionName);
    }
}
