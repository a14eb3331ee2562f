using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Tests.Webhooks;

/// <summary>A webhook setting that could not protect or serve anything stops the host at start, naming the key.</summary>
public sealed class WebhookStartupValidationTests
{
    private static readonly Dictionary<string, string?> DemoSite = new()
    {
        ["Sites:0:Id"] = "demo",
        ["Sites:0:WriteKeys:0"] = "demo-write-key-0001",
    };

    [Theory]
    [InlineData("Sites:0:LiveChatWebhookSecret", "secret", "Sites:0:LiveChatWebhookSecret: a webhook secret must have at least 16 characters")]
    [InlineData("Sites:0:ShopifyWebhookSecret", "               x", "Sites:0:ShopifyWebhookSecret: a webhook secret must have at least 16 characters")]
    [InlineData("Sites:0:WooCommerceWebhookSecret", "0123456789", "Sites:0:WooCommerceWebhookSecret: a webhook secret must have at least 16 characters")]
    [InlineData("Webhooks:MaxBodyBytes", "100", "Webhooks:MaxBodyBytes must be between")]
    [InlineData("Webhooks:MaxPastAge", "00:00:01", "Webhooks:MaxPastAge must be between")]
    [InlineData("Webhooks:RecentDeliveryIds", "-1", "Webhooks:RecentDeliveryIds must be between")]
    [InlineData("Sites:0:ShopifyShopDomain", "https://coffee.myshopify.com/", "Sites:0:ShopifyShopDomain: must be the shop's host name")]
    [InlineData("Sites:0:WooCommerceStoreUrl", "coffee.example", "Sites:0:WooCommerceStoreUrl: must be the store's absolute URL")]
    public void A_bad_webhook_setting_is_refused_naming_the_key(string key, string value, string message)
    {
        var error = Validate(new Dictionary<string, string?>(DemoSite) { [key] = value });

        Assert.NotNull(error);
        Assert.Contains(error.Failures, failure => failure.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Absent_or_empty_secrets_turn_an_integration_off_and_long_ones_are_accepted() =>
        Assert.Null(Validate(new Dictionary<string, string?>(DemoSite)
        {
            ["Sites:0:LiveChatWebhookSecret"] = "",
            ["Sites:0:ShopifyWebhookSecret"] = "shpss_0123456789abcdef0123456789",
            ["Sites:0:ShopifyShopDomain"] = "coffee.myshopify.com",
            ["Sites:0:WooCommerceStoreUrl"] = "https://coffee.example/",
        }));

    private static OptionsValidationException? Validate(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddIngest();
        using var services = builder.Services.BuildServiceProvider();
        try
        {
            services.GetRequiredService<IStartupValidator>().Validate();
            return null;
        }
        catch (OptionsValidationException error)
        {
            return error;
        }
    }
}
