using Insights.Contracts;

namespace Insights.Ingest.Admission;

/// <summary>How an event arrived. It decides what the event may say, the namespace of its id and its rate bucket.</summary>
public enum TrustLevel
{
    /// <summary>A public write key: it sits in every page's HTML, so anyone may use it.</summary>
    Public,

    /// <summary>A server key: a secret on the site's own back end.</summary>
    Server,

    /// <summary>A platform's webhook whose signature (or secret) over the raw body was verified.</summary>
    Webhook,
}

/// <summary>
/// The rules of <see cref="TrustLevel"/>: what a public key may send, and the id namespace of each key kind. Ids are
/// namespaced by source (<c>pub:</c>, <c>srv:</c>; webhooks own <c>livechat:</c>, <c>shopify:</c>, <c>woocommerce:</c>),
/// so no sender can replace a row another source wrote: storage deduplicates on the event id.
/// </summary>
public static class Trust
{
    public const string PublicIdPrefix = EventIds.PublicPrefix;
    public const string ServerIdPrefix = EventIds.ServerPrefix;

    public static TrustLevel Of(KeyKind kind) => kind == KeyKind.Server ? TrustLevel.Server : TrustLevel.Public;

    /// <summary>
    /// Page views, custom events and identify: what a browser says about its own visit (and all the tracker sends).
    /// Segment's browser and app SDKs also send screen, group and alias with the public write key, and each says no more
    /// than identify already may: a screen is an app's page view, group names the visitor's own account (kept, but only a server key's group
    /// makes the visit that company's: see the sessionizer), alias links two
    /// ids of the sender itself (a forger could as well send identify with both ids). Orders, refunds, cancellations and
    /// chats are money and conversations, which only the shop or the chat platform can vouch for.
    /// </summary>
    public static bool PublicMaySend(string type) =>
        type is EventTypes.Pageview or EventTypes.Track or EventTypes.Identify or EventTypes.Screen or EventTypes.Group or EventTypes.Alias;

    public static string IdPrefix(TrustLevel level) => level switch
    {
        TrustLevel.Public => PublicIdPrefix,
        TrustLevel.Server => ServerIdPrefix,
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, "Webhook ids are named by their platform."),
    };

    /// <summary>The sentence a refused public event gets: what it needs instead.</summary>
    public static string NeedsServerKeyDetail(string type) =>
        $"a public write key may send pageview, track, identify, screen, group and alias only; send \"{type}\" from your server with the site's server key " +
        "(X-Insights-Key header), or let the shop's or chat platform's webhook deliver it";
}
