using System.Net.Http.Headers;
using Insights.Ingest.Tests.Webhooks;

namespace Insights.Ingest.Tests.Integration;

/// <summary>Ingest hosts whose demo site has every webhook integration on, and how the platforms post to them.</summary>
internal static class WebhookHosts
{
    public const string ShopDomain = "coffee-demo.myshopify.com";

    public static IngestHost Start(string kafkaBootstrap, Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sites:0:LiveChatWebhookSecret"] = WebhookFixtures.LiveChatSecret,
            ["Sites:0:ShopifyWebhookSecret"] = WebhookFixtures.ShopifySecret,
            ["Sites:0:WooCommerceWebhookSecret"] = WebhookFixtures.WooCommerceSecret,
        };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return IngestHost.Start(kafkaBootstrap, settings);
    }

    public static Task<HttpResponseMessage> LiveChatAsync(this IngestHost host, byte[] body, string site = "demo") =>
        host.PostAsync(body, key: null, path: $"/v1/webhooks/livechat/{site}");

    /// <summary>As Shopify sends it: the topic and, unless told otherwise, the HMAC of exactly these bytes.</summary>
    public static Task<HttpResponseMessage> ShopifyAsync(this IngestHost host, byte[] body, string topic, string? signature = "sign", string site = "demo",
        string? webhookId = null, string shopDomain = ShopDomain) =>
        host.PostAsync(body, key: null, path: $"/v1/webhooks/shopify/{site}", configure: request =>
        {
            request.Headers.Add("X-Shopify-Topic", topic);
            request.Headers.Add("X-Shopify-Shop-Domain", shopDomain);
            request.Headers.Add("X-Shopify-Webhook-Id", webhookId ?? Guid.NewGuid().ToString());
            if (signature is not null)
            {
                request.Headers.Add("X-Shopify-Hmac-Sha256", signature == "sign" ? WebhookFixtures.Sign(body, WebhookFixtures.ShopifySecret) : signature);
            }
        });

    public static Task<HttpResponseMessage> WooCommerceAsync(this IngestHost host, byte[] body, string? topic, string? signature = "sign",
        string contentType = "application/json", string site = "demo", string? deliveryId = null) =>
        host.PostAsync(body, key: null, contentType: contentType, path: $"/v1/webhooks/woocommerce/{site}", configure: request =>
        {
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("WooCommerce", "9.3.3"));
            if (topic is not null)
            {
                request.Headers.Add("X-WC-Webhook-Topic", topic);
                request.Headers.Add("X-WC-Webhook-Source", "https://coffee.example/");
                request.Headers.Add("X-WC-Webhook-Delivery-ID", deliveryId ?? Guid.NewGuid().ToString("N"));
            }

            if (signature is not null)
            {
                request.Headers.Add("X-WC-Webhook-Signature", signature == "sign" ? WebhookFixtures.Sign(body, WebhookFixtures.WooCommerceSecret) : signature);
            }
        });
}
