using System.ComponentModel.DataAnnotations;

namespace Insights.Ingest.Webhooks;

/// <summary>Limits of the platform webhooks (<c>/v1/webhooks/...</c>, section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Bytes per webhook body, enforced while reading and before the signature is checked: a Shopify order with
    /// a few hundred line items is a few hundred KB; more is memory an unauthenticated sender could make us hold.</summary>
    [Range(16 * 1024, 16 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>JSON nesting depth: the platforms' documents nest about six levels; the cap bounds parser work.</summary>
    [Range(8, 256)]
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>Order line items copied into an order event's properties: more items describe big orders fully, but make
    /// every order message and row bigger. The total is always the platform's, whatever is cut.</summary>
    [Range(0, 1000)]
    public int MaxItems { get; set; } = 100;

    /// <summary>
    /// Platform timestamps older than this are replaced by the receive time. Far longer than the API's 7 days: a shop's
    /// clock is right, an order updated weeks later must keep its date so the re-sent event collapses with the first.
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "36500.00:00:00")]
    public TimeSpan MaxPastAge { get; set; } = TimeSpan.FromDays(3650);

    /// <summary>
    /// Delivery ids remembered per instance to answer a platform's re-delivery without producing it again (about 200
    /// bytes each): more catches re-deliveries further apart, at that memory. Storage deduplicates regardless, since
    /// every webhook event's id is derived from its order, refund or chat.
    /// </summary>
    [Range(0, 10_000_000)]
    public int RecentDeliveryIds { get; set; } = 50_000;
}
