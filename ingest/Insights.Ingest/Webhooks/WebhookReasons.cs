namespace Insights.Ingest.Webhooks;

/// <summary>
/// Why a webhook was refused or ignored: the <c>reason</c> of the problem document (or of the 200 answer) and the
/// <c>outcome</c> tag of <c>insights.ingest.webhooks.received</c>. Stable on the wire; add, never rename.
/// </summary>
public static class WebhookReasons
{
    // Refused (nothing ingested).
    public const string UnknownSite = "unknown_site";
    public const string IntegrationOff = "integration_off";
    public const string MissingSignature = "missing_signature";
    public const string InvalidSignature = "invalid_signature";
    public const string MissingSecret = "missing_secret";
    public const string InvalidSecret = "invalid_secret";
    public const string MissingTopic = "missing_topic";
    public const string InvalidPayload = "invalid_payload";

    /// <summary>The topic header says one thing, the signed body another (an order re-sent as a cancellation, say).</summary>
    public const string TopicMismatch = "topic_mismatch";

    /// <summary>X-Shopify-Shop-Domain is not the site's ShopifyShopDomain.</summary>
    public const string WrongShop = "wrong_shop";

    /// <summary>X-WC-Webhook-Source is not the site's WooCommerceStoreUrl.</summary>
    public const string WrongStore = "wrong_store";

    // Authenticated and answered 200, with nothing to ingest.
    public const string Ping = "ping";
    public const string UnmappedTopic = "unmapped_topic";
    public const string UnmappedEvent = "unmapped_event";
    public const string TestOrder = "test_order";
    public const string OrderNotPlaced = "order_not_placed";
    public const string NoMoneyRefunded = "no_money_refunded";
    public const string NothingToLink = "nothing_to_link";

    /// <summary>A delivery id (X-Shopify-Webhook-Id, X-WC-Webhook-Delivery-ID) this instance already took to Kafka.</summary>
    public const string DuplicateDelivery = "duplicate_delivery";

    public const string Accepted = "accepted";
}
