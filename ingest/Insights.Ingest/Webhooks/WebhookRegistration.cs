using Insights.Contracts;
using Insights.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Webhooks;

public static class WebhookRegistration
{
    /// <summary>The platform webhooks: limits (section <c>Webhooks</c>), per-site secrets checked at start-up, metrics.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<WebhookOptions>(configuration, WebhookOptions.Section);
        services.AddSingleton<IValidateOptions<List<SiteOptions>>, WebhookSecretsValidator>();
        services.AddSingleton<WebhookMetrics>();
        services.AddSingleton<RecentDeliveries>();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Add(Apis.WebhookJsonContext.Default));
        return services;
    }
}

/// <summary>
/// Fails the start-up, naming the key, for a webhook secret that is set but too short to protect anything (LiveChat's
/// is compared as it is and the shops' sign every body, so a guessable one lets anyone post orders), and for a shop
/// domain or store URL that no delivery could match.
/// </summary>
internal sealed class WebhookSecretsValidator : IValidateOptions<List<SiteOptions>>
{
    public const int MinSecretLength = 16;

    public ValidateOptionsResult Validate(string? name, List<SiteOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        for (var i = 0; i < options.Count; i++)
        {
            Check(options[i].LiveChatWebhookSecret, i, nameof(SiteOptions.LiveChatWebhookSecret), failures);
            Check(options[i].ShopifyWebhookSecret, i, nameof(SiteOptions.ShopifyWebhookSecret), failures);
            Check(options[i].WooCommerceWebhookSecret, i, nameof(SiteOptions.WooCommerceWebhookSecret), failures);
            CheckOrigins(options[i], i, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>A shop or store that no delivery could ever name would refuse every webhook of the site, quietly.</summary>
    private static void CheckOrigins(SiteOptions site, int index, List<string> failures)
    {
        if (!string.IsNullOrEmpty(site.ShopifyShopDomain) && Uri.CheckHostName(site.ShopifyShopDomain.Trim()) != UriHostNameType.Dns)
        {
            failures.Add($"{SiteCatalogRegistration.Section}:{index}:{nameof(SiteOptions.ShopifyShopDomain)}: must be the shop's host name, " +
                $"such as coffee.myshopify.com (no scheme or path), got \"{site.ShopifyShopDomain}\".");
        }

        if (!string.IsNullOrEmpty(site.WooCommerceStoreUrl)
            && !(Uri.TryCreate(site.WooCommerceStoreUrl.Trim(), UriKind.Absolute, out var store) && store.Scheme is "https" or "http"))
        {
            failures.Add($"{SiteCatalogRegistration.Section}:{index}:{nameof(SiteOptions.WooCommerceStoreUrl)}: must be the store's absolute URL, " +
                $"such as https://shop.example/, got \"{site.WooCommerceStoreUrl}\".");
        }
    }

    private static void Check(string? secret, int index, string key, List<string> failures)
    {
        // Empty means "off", like absent: configuration cannot always express null (an environment variable, for one).
        if (!string.IsNullOrEmpty(secret) && secret.Trim().Length < MinSecretLength)
        {
            failures.Add($"{SiteCatalogRegistration.Section}:{index}:{key}: a webhook secret must have at least {MinSecretLength} characters " +
                "(leave it empty to turn the integration off).");
        }
    }
}
