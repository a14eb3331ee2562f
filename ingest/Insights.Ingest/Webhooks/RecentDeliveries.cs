using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Webhooks;

/// <summary>
/// The delivery ids (<c>X-Shopify-Webhook-Id</c>, <c>X-WC-Webhook-Delivery-ID</c>) this instance took to Kafka lately,
/// at most <see cref="WebhookOptions.RecentDeliveryIds"/>, oldest forgotten first. A re-delivery is answered 200 without
/// producing again, which spares Kafka and the processors. It is a saving, not the guarantee: the header is not signed,
/// other instances do not share the set, and so every webhook event's id is derived from the platform's order, refund or
/// chat (never from the delivery id), which storage deduplicates on.
/// </summary>
public sealed class RecentDeliveries(IOptions<WebhookOptions> options)
{
    // Longer ids are not the platforms' (UUIDs and small numbers): not remembered, so they cannot fill the set faster.
    private const int MaxIdLength = 128;

    private readonly int capacity = options.Value.RecentDeliveryIds;
    private readonly ConcurrentDictionary<string, byte> seen = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> order = new();

    public bool Contains(string siteId, string platform, string? deliveryId) =>
        Key(siteId, platform, deliveryId) is { } key && seen.ContainsKey(key);

    /// <summary>Called once Kafka acknowledged the delivery's events: a delivery refused or lost is not a duplicate.</summary>
    public void Remember(string siteId, string platform, string? deliveryId)
    {
        if (capacity == 0 || Key(siteId, platform, deliveryId) is not { } key || !seen.TryAdd(key, 0))
        {
            return;
        }

        order.Enqueue(key);
        while (seen.Count > capacity && order.TryDequeue(out var oldest))
        {
            seen.TryRemove(oldest, out _);
        }
    }

    private static string? Key(string siteId, string platform, string? deliveryId) =>
        deliveryId is { Length: > 0 and <= MaxIdLength } ? string.Concat(siteId, "\n", platform, "\n", deliveryId) : null;
}
