namespace Insights.Contracts;

/// <summary>
/// Ingest namespaces every event id by how the event arrived, so storage's deduplication on the id can never let one
/// source replace another's row, and readers downstream can tell what a public write key said from what the site's
/// back end vouched for. Webhooks own their platform's prefix (<c>livechat:</c>, <c>shopify:</c>, <c>woocommerce:</c>).
/// </summary>
public static class EventIds
{
    /// <summary>Sent with a public write key: anyone who reads the page's HTML could have sent it.</summary>
    public const string PublicPrefix = "pub:";

    /// <summary>Sent with the site's secret server key.</summary>
    public const string ServerPrefix = "srv:";

    /// <summary>True for an event a public write key sent.</summary>
    public static bool IsPublic(string eventId) => eventId.StartsWith(PublicPrefix, StringComparison.Ordinal);
}
