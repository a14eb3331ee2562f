using System.Text;
using Insights.Contracts;
using Insights.Ingest.Webhooks;
using static Insights.Ingest.Tests.Webhooks.WebhookFixtures;

namespace Insights.Ingest.Tests.Webhooks;

/// <summary>
/// Webhooks bound to what they say: the signature against vectors computed outside this code base, the topic against
/// the signed body, the shop or store against the site's.
/// </summary>
public sealed class WebhookBindingTests
{
    // Computed with OpenSSL, not with WebhookSignatures:
    //   printf '%s' "$ShortOrder" | openssl dgst -sha256 -hmac "$ShopifySecret" -binary | base64
    //   printf '%s' "$ShortOrder" | openssl dgst -sha256 -hmac "$ShopifySecret" -hex
    //   printf '%s' 'webhook_id=42' | openssl dgst -sha256 -hmac "$WooCommerceSecret" -binary | base64
    //   openssl dgst -sha256 -hmac "$ShopifySecret" -binary < TestData/Webhooks/shopify/orders_create.json | base64
    //   openssl dgst -sha256 -hmac "$WooCommerceSecret" -binary < TestData/Webhooks/woocommerce/order_created.json | base64
    private const string ShortOrder = """{"id":820982911946154508,"total_price":"10.00","currency":"EUR"}""";
    private const string ShortOrderShopifyBase64 = "biFknGz+h7t1rdAGjBTML3OcPx4Z3OFWW6MptPyC6Wk=";
    private const string ShortOrderShopifyHex = "6e21649c6cfe87bb75add0068c14cc2f739c3f1e19dce1565ba329b4fc82e969";
    private const string PingWooCommerceBase64 = "bZUXgITnCTsTFSxp28sp7imBQipiY4gDU2Ys1AfJgNo=";
    public const string OrdersCreateShopifyBase64 = "SOCk88x7p3k6ICNQ4YgLoMdu3AB0fB4nb5Y3ulqsOLM=";
    public const string OrderCreatedWooCommerceBase64 = "0K7701eDbTnpyQjnNtKbMt36JK5ehQqVzD8/s76DBK0=";

    [Fact]
    public void Signatures_match_vectors_computed_with_openssl()
    {
        Assert.True(WebhookSignatures.IsValidHmac(Encoding.UTF8.GetBytes(ShortOrder), ShopifySecret, ShortOrderShopifyBase64));
        Assert.True(WebhookSignatures.IsValidHmac("webhook_id=42"u8, WooCommerceSecret, PingWooCommerceBase64));
        Assert.True(WebhookSignatures.IsValidHmac(Bytes("shopify/orders_create.json"), ShopifySecret, OrdersCreateShopifyBase64));
        Assert.True(WebhookSignatures.IsValidHmac(Bytes("woocommerce/order_created.json"), WooCommerceSecret, OrderCreatedWooCommerceBase64));
        // The same digest as hex is not what the platforms send, and one byte more in the body is another digest.
        Assert.Equal(Convert.FromHexString(ShortOrderShopifyHex), Convert.FromBase64String(ShortOrderShopifyBase64));
        Assert.False(WebhookSignatures.IsValidHmac(Encoding.UTF8.GetBytes(ShortOrder), ShopifySecret, ShortOrderShopifyHex));
        Assert.False(WebhookSignatures.IsValidHmac(Encoding.UTF8.GetBytes(ShortOrder + " "), ShopifySecret, ShortOrderShopifyBase64));
        Assert.False(WebhookSignatures.IsValidHmac(Encoding.UTF8.GetBytes(ShortOrder), WooCommerceSecret, ShortOrderShopifyBase64));
        // What tests elsewhere sign with agrees with OpenSSL.
        Assert.Equal(ShortOrderShopifyBase64, Sign(Encoding.UTF8.GetBytes(ShortOrder), ShopifySecret));
    }

    [Theory]
    [InlineData("shopify/orders_create.json", "orders/cancelled")] // a captured order re-sent as its cancellation
    [InlineData("shopify/refunds_create.json", "orders/create")]
    [InlineData("shopify/refunds_create.json", "orders/cancelled")]
    [InlineData("shopify/orders_create.json", "refunds/create")]
    [InlineData("shopify/orders_cancelled.json", "refunds/create")]
    public void A_shopify_topic_its_signed_body_contradicts_is_refused(string fixture, string topic)
    {
        var outcome = Shopify(Bytes(fixture), topic);

        Assert.Equal((WebhookVerdict.Invalid, WebhookReasons.TopicMismatch), (outcome.Verdict, outcome.Reason));
        Assert.Contains(topic, outcome.Detail, StringComparison.Ordinal);
        Assert.Empty(outcome.Events);
    }

    [Fact]
    public void Orders_paid_needs_a_paid_order_and_a_cancellation_its_time()
    {
        var pending = Json("shopify/orders_create.json");
        pending["financial_status"] = "pending";
        Assert.Equal(WebhookReasons.TopicMismatch, Shopify(ToBytes(pending), "orders/paid").Reason);
        Assert.Equal(WebhookVerdict.Events, Shopify(ToBytes(pending), "orders/create").Verdict);

        var cancelled = Json("shopify/orders_cancelled.json");
        Assert.Equal(EventTypes.OrderCancelled, Assert.Single(Shopify(ToBytes(cancelled), "orders/cancelled").Events).Type);
        cancelled["cancelled_at"] = null;
        Assert.Equal(WebhookReasons.TopicMismatch, Shopify(ToBytes(cancelled), "orders/cancelled").Reason);
    }

    [Theory]
    [InlineData("coffee-demo.myshopify.com", WebhookVerdict.Events, "accepted")]
    [InlineData(" Coffee-Demo.MyShopify.com ", WebhookVerdict.Events, "accepted")]
    [InlineData("other-shop.myshopify.com", WebhookVerdict.Forbidden, WebhookReasons.WrongShop)]
    [InlineData(null, WebhookVerdict.Forbidden, WebhookReasons.WrongShop)]
    public void A_configured_shop_domain_must_be_the_deliverys(string? domain, WebhookVerdict verdict, string reason)
    {
        var site = Site();
        site.ShopifyShopDomain = "coffee-demo.myshopify.com";
        var body = Bytes("shopify/orders_create.json");

        var outcome = ShopifyWebhook.Receive(body, new ShopifyDelivery(Sign(body, ShopifySecret), "orders/create", domain), ShopifySecret, Context(site));

        Assert.Equal((verdict, reason), (outcome.Verdict, outcome.Reason));
        // Unsigned, it is the signature that fails first: an unauthenticated sender learns nothing of the shop.
        Assert.Equal(WebhookVerdict.Unauthorized,
            ShopifyWebhook.Receive(body, new ShopifyDelivery("AAAA", "orders/create", domain), ShopifySecret, Context(site)).Verdict);
    }

    [Fact]
    public void Without_a_configured_shop_any_domain_is_accepted() =>
        Assert.Equal(WebhookVerdict.Events, Shopify(Bytes("shopify/orders_create.json"), "orders/create", "anything.myshopify.com").Verdict);

    [Theory]
    [InlineData("woocommerce/order_created.json", "order.deleted")] // a captured order re-sent as its deletion
    [InlineData("woocommerce/order_updated_refunded.json", "order.deleted")]
    public void A_woocommerce_topic_its_signed_body_contradicts_is_refused(string fixture, string topic)
    {
        var outcome = WooCommerce(Bytes(fixture), new WooCommerceDelivery(null, topic));

        Assert.Equal((WebhookVerdict.Invalid, WebhookReasons.TopicMismatch), (outcome.Verdict, outcome.Reason));
        Assert.Empty(outcome.Events);
    }

    [Fact]
    public void A_woocommerce_deletion_is_an_id_and_an_update_a_whole_order()
    {
        var deleted = WooCommerce("""{"id":4711}"""u8.ToArray(), new WooCommerceDelivery(null, "order.deleted"));
        Assert.Equal(("woocommerce:order_cancelled:4711", EventTypes.OrderCancelled), (Assert.Single(deleted.Events).EventId, deleted.Events[0].Type));

        Assert.Equal(WebhookReasons.TopicMismatch, WooCommerce("""{"id":4711}"""u8.ToArray(), new WooCommerceDelivery(null, "order.updated")).Reason);
        Assert.Equal(WebhookReasons.TopicMismatch,
            WooCommerce("""{"id":7,"status":"publish","name":"Espresso machine","price":"10"}"""u8.ToArray(), new WooCommerceDelivery(null, "order.updated")).Reason);
    }

    [Theory]
    [InlineData("order", "updated", WebhookVerdict.Events)]
    [InlineData(null, null, WebhookVerdict.Events)]
    [InlineData("product", "updated", WebhookVerdict.Invalid)]
    [InlineData("order", "deleted", WebhookVerdict.Invalid)]
    public void The_woocommerce_resource_and_event_headers_must_spell_the_topic(string? resource, string? @event, WebhookVerdict verdict) =>
        Assert.Equal(verdict, WooCommerce(Bytes("woocommerce/order_created.json"), new WooCommerceDelivery(null, "order.updated", null, resource, @event)).Verdict);

    [Theory]
    [InlineData("https://coffee.example/", WebhookVerdict.Events)]
    [InlineData("https://COFFEE.example", WebhookVerdict.Events)]
    [InlineData("https://coffee.example/shop/", WebhookVerdict.Forbidden)]
    [InlineData("http://coffee.example/", WebhookVerdict.Forbidden)]
    [InlineData("https://coffee.example.evil.test/", WebhookVerdict.Forbidden)]
    [InlineData(null, WebhookVerdict.Forbidden)]
    public void A_configured_store_url_must_be_the_deliverys_source(string? source, WebhookVerdict verdict)
    {
        var site = Site();
        site.WooCommerceStoreUrl = "https://coffee.example/";
        var body = Bytes("woocommerce/order_created.json");

        var outcome = WooCommerceWebhook.Receive(body, new WooCommerceDelivery(Sign(body, WooCommerceSecret), "order.created", source), WooCommerceSecret, Context(site));

        Assert.Equal(verdict, outcome.Verdict);
        Assert.Equal(verdict == WebhookVerdict.Forbidden ? WebhookReasons.WrongStore : WebhookReasons.Accepted, outcome.Reason);
    }

    [Fact]
    public void Recent_delivery_ids_are_bounded_per_site_and_platform_and_the_oldest_forgotten_first()
    {
        var recent = new RecentDeliveries(Microsoft.Extensions.Options.Options.Create(new WebhookOptions { RecentDeliveryIds = 2 }));
        recent.Remember("demo", "shopify", "a");
        recent.Remember("demo", "shopify", "b");
        Assert.True(recent.Contains("demo", "shopify", "a"));
        Assert.False(recent.Contains("demo", "woocommerce", "a"));
        Assert.False(recent.Contains("other", "shopify", "a"));

        recent.Remember("demo", "shopify", "c");
        Assert.False(recent.Contains("demo", "shopify", "a"));
        Assert.True(recent.Contains("demo", "shopify", "b") && recent.Contains("demo", "shopify", "c"));

        // No id, or one longer than a platform's, is never remembered (and so never a duplicate).
        recent.Remember("demo", "shopify", new string('x', 500));
        Assert.False(recent.Contains("demo", "shopify", new string('x', 500)));
        Assert.False(recent.Contains("demo", "shopify", null));
    }

    private static WebhookOutcome Shopify(byte[] body, string topic, string? domain = null) =>
        ShopifyWebhook.Receive(body, new ShopifyDelivery(Sign(body, ShopifySecret), topic, domain), ShopifySecret, Context());

    private static WebhookOutcome WooCommerce(byte[] body, WooCommerceDelivery delivery) =>
        WooCommerceWebhook.Receive(body, delivery with { Signature = Sign(body, WooCommerceSecret) }, WooCommerceSecret, Context());
}
