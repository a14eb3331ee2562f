using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;

namespace Insights.Contracts;

/// <summary>One tracked website and its keys. From configuration for now (section <c>Sites</c>).</summary>
public sealed class SiteOptions
{
    /// <summary>Stable id used in URLs, Kafka keys and ClickHouse rows.</summary>
    [Required]
    [RegularExpression("^[a-z0-9][a-z0-9_-]{0,62}$", ErrorMessage = "must be 1-63 lowercase letters, digits, '-' or '_'")]
    public string Id { get; set; } = "";

    /// <summary>Display name of the site.</summary>
    public string Name { get; set; } = "";

    /// <summary>Keys that may send events (browser tracker, public).</summary>
    public List<string> WriteKeys { get; set; } = [];

    /// <summary>Keys that may send events on a visitor's behalf (context.ip / context.userAgent honoured). Secret.</summary>
    public List<string> ServerKeys { get; set; } = [];

    /// <summary>Keys that may read reports. Secret; a write key never reads.</summary>
    public List<string> ReadKeys { get; set; } = [];

    /// <summary>
    /// Events per second accepted from this site's public write keys (browsers) before ingest answers 429. Public,
    /// server-key and webhook traffic have separate buckets, so a flood on the public key never refuses the shop's own calls.
    /// </summary>
    [Range(1, 10_000_000)]
    public int RateLimitPerSecond { get; set; } = 200_000;

    /// <summary>Events per second accepted from this site's server keys (its own back end) before ingest answers 429.</summary>
    [Range(1, 10_000_000)]
    public int ServerRateLimitPerSecond { get; set; } = 200_000;

    /// <summary>
    /// Events per second accepted from this site's verified webhooks (LiveChat, Shopify, WooCommerce) before ingest
    /// answers 429. Platforms deliver orders and chats, far fewer than page views; they retry a 429 later.
    /// </summary>
    [Range(1, 10_000_000)]
    public int WebhookRateLimitPerSecond { get; set; } = 20_000;

    /// <summary>IANA time zone for day boundaries in reports.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>
    /// Cookieless tracking: the browser stores nothing and ingest derives the visitor id from a daily-rotating salted
    /// hash of site, IP and user agent. Visitors then count per day, and a returning visitor is a new one tomorrow.
    /// </summary>
    public bool Cookieless { get; set; }

    /// <summary>
    /// What is stored of a visitor's IP once geo and company are resolved (the site's privacy mode); unset means the
    /// processors' default (<c>Enrichment:IpStorage</c>, Truncated).
    /// </summary>
    public IpStorageMode? IpStorage { get; set; }

    /// <summary>Drop events sent with the browser's Do-Not-Track signal (<c>DNT: 1</c>).</summary>
    public bool HonorDoNotTrack { get; set; } = true;

    /// <summary>Drop events sent with Global Privacy Control (<c>Sec-GPC: 1</c>), a legal opt-out in some states.</summary>
    public bool HonorGlobalPrivacyControl { get; set; } = true;

    /// <summary>
    /// Keep the text of chat messages (card numbers always masked). Off by default: chat metadata (who, when, which
    /// agent and channel) is enough for attribution, and transcripts are personal data.
    /// </summary>
    public bool StoreChatText { get; set; }

    /// <summary>When chat text is kept, replace e-mail addresses in it with <c>[email]</c>.</summary>
    public bool MaskEmailsInChat { get; set; }

    /// <summary>
    /// Query parameters removed from page URLs and referrers before anything is stored (names compared
    /// case-insensitively, after percent-decoding; the rest of the URL is kept byte for byte). Unset means
    /// <see cref="DefaultStripQueryParameters"/>; a configured list replaces it, so list the defaults you want to keep.
    /// Campaign (<c>utm_*</c>) and click-id parameters must not be listed: sessions are attributed from them. A
    /// parameter whose value is an e-mail address is removed whatever its name.
    /// </summary>
    public List<string>? StripQueryParameters { get; set; }

    /// <summary>
    /// Names that carry secrets or contact details when sites put them in URLs: login and reset links, OAuth
    /// redirects, signed links, newsletter links that carry the subscriber's address.
    /// </summary>
    public static IReadOnlyList<string> DefaultStripQueryParameters { get; } =
    [
        "email", "e-mail", "e_mail", "mail", "phone",
        "token", "access_token", "id_token", "refresh_token", "auth", "authorization", "jwt",
        "password", "pass", "passwd", "pwd", "otp", "code",
        "key", "api_key", "apikey", "secret", "client_secret",
        "session", "sessionid", "session_id", "sid",
        "signature", "sig", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
    ];

    /// <summary>The secret_key registered with this site's LiveChat webhooks; null turns the LiveChat integration off.</summary>
    public string? LiveChatWebhookSecret { get; set; }

    /// <summary>The Shopify app's client secret (signs X-Shopify-Hmac-Sha256); null turns the Shopify integration off.</summary>
    public string? ShopifyWebhookSecret { get; set; }

    /// <summary>The WooCommerce webhook secret (signs X-WC-Webhook-Signature); null turns the WooCommerce integration off.</summary>
    public string? WooCommerceWebhookSecret { get; set; }

    /// <summary>
    /// The shop's <c>*.myshopify.com</c> domain. When set, a Shopify webhook whose <c>X-Shopify-Shop-Domain</c> names
    /// another shop is refused: one app's client secret signs the webhooks of every shop that installed the app.
    /// </summary>
    public string? ShopifyShopDomain { get; set; }

    /// <summary>
    /// The WooCommerce store's URL (<c>https://shop.example/</c>). When set, a WooCommerce webhook whose
    /// <c>X-WC-Webhook-Source</c> names another store is refused.
    /// </summary>
    public string? WooCommerceStoreUrl { get; set; }

    /// <summary>ISO 4217 currency that revenue reports are shown in; orders in other currencies are converted with <see cref="CurrencyRates"/>.</summary>
    [RegularExpression("^[A-Z]{3}$", ErrorMessage = "must be an ISO 4217 code in capitals, like USD")]
    public string ReportingCurrency { get; set; } = "USD";

    /// <summary>
    /// Units of <see cref="ReportingCurrency"/> per one unit of the keyed currency (<c>{"EUR": 1.08}</c>), applied when an
    /// order is attributed. An order in a currency without a rate keeps its own amounts and is reported as unconverted.
    /// </summary>
    public Dictionary<string, decimal> CurrencyRates { get; set; } = [];

    /// <summary>Chats up to this many days before an order get credit for it.</summary>
    [Range(1, 90)]
    public int AttributionWindowDays { get; set; } = 7;

    /// <summary>Time-decay model: a chat this many hours before the order weighs half as much as one right before it.</summary>
    [Range(0.1, 8760)]
    public double TimeDecayHalfLifeHours { get; set; } = 24;

    /// <summary>
    /// Link a chat or an order to the visitor seen with the same IP and user agent within minutes, when nothing stronger
    /// links them. Such links are marked low confidence; turn this off to attribute on explicit ids only.
    /// </summary>
    public bool WeakIdentityLinking { get; set; } = true;

    /// <summary>Goals whose completions, conversion rates and chat-assisted share the goals report shows.</summary>
    public List<SiteGoal> Goals { get; set; } = [];

    /// <summary>
    /// The companies the site's sales team is after (its target-account list), as web domains (<c>acme.com</c>). A
    /// visitor's company whose domain is one of these, or under one (<c>eu.acme.com</c>), is a target account: live views
    /// badge it and invitation and alert rules can ask for it. At most <see cref="SiteValidation.MaxTargetAccounts"/>.
    /// </summary>
    public List<string> TargetAccounts { get; set; } = [];

    /// <summary>
    /// Proactive chat invitation rules (issue 10 §4), evaluated by live presence for every present visitor: suggest the
    /// visitor to agents or invite them automatically. Managed through <c>/v1/sites/{site}/invitation-rules</c>; bounded
    /// by <see cref="InvitationRuleLimits"/>, since every rule runs for every present visitor once a second.
    /// </summary>
    public List<InvitationRule> Invitations { get; set; } = [];

    /// <summary>Alert rules: who is told, and where, when a present visitor is a target account, crosses a lead score or returns with high intent.</summary>
    public List<AlertRule> Alerts { get; set; } = [];

    /// <summary>True when <paramref name="domain"/> (a company's web domain) is on the target-account list or under one of its domains.</summary>
    public bool IsTargetAccount(string? domain)
    {
        if (string.IsNullOrEmpty(domain) || TargetAccounts.Count == 0)
        {
            return false;
        }

        foreach (var target in TargetAccounts)
        {
            if (domain.Equals(target, StringComparison.OrdinalIgnoreCase)
                || (domain.Length > target.Length && domain[^(target.Length + 1)] == '.' && domain.EndsWith(target, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// A goal of a site: completed by a page view whose URL matches <see cref="UrlPattern"/> (kind <c>page</c>), a custom
/// event named <see cref="EventName"/> (<c>event</c>), a started chat (<c>chat_started</c>) or a placed order
/// (<c>order_placed</c>). Each completion is worth <see cref="Value"/> in the reporting currency; an order goal without
/// a value is worth the order's amount.
/// </summary>
public sealed class SiteGoal
{
    /// <summary>Stable id stored with every completion; renaming the goal keeps its history.</summary>
    [Required]
    [RegularExpression("^[a-z0-9][a-z0-9_-]{0,62}$", ErrorMessage = "must be 1-63 lowercase letters, digits, '-' or '_'")]
    public string Id { get; set; } = "";

    /// <summary>Display name of the goal in the goals report; completions are stored under its id.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>page</c>, <c>event</c>, <c>chat_started</c> or <c>order_placed</c>.</summary>
    [Required]
    public string Kind { get; set; } = "";

    /// <summary>Kind <c>page</c>: a path (<c>/thank-you</c>) or URL (<c>https://shop.example/checkout/*</c>); <c>*</c> matches anything, case-insensitive, query and fragment ignored.</summary>
    public string? UrlPattern { get; set; }

    /// <summary>Kind <c>event</c>: the custom event's name, exactly.</summary>
    public string? EventName { get; set; }

    /// <summary>Worth of one completion in the reporting currency; null for none (order goals: the order's amount).</summary>
    public decimal? Value { get; set; }
}

/// <summary>What the pipeline keeps of a visitor's IP once geo and company are resolved.</summary>
public enum IpStorageMode
{
    /// <summary>The whole address.</summary>
    Full,

    /// <summary>The network part: IPv4 /24, IPv6 /48.</summary>
    Truncated,

    /// <summary>Nothing: the result carries no IP at all.</summary>
    None,
}

/// <summary>What a key grants.</summary>
public enum KeyKind
{
    Write,
    Server,
    Read,
}

/// <summary>A key as the control plane stores it: the SHA-256 of the key (<see cref="SiteCatalog.HashKey"/>), never the key.</summary>
public sealed record SiteKeyHash(string SiteId, KeyKind Kind, string Hash);

/// <summary>
/// Sites by key, as every service sees them now. Keys are looked up by their SHA-256, so a lookup's timing says nothing
/// about how much of a guessed key was right, and the catalog holds no key it would have to compare byte by byte.
/// The control plane replaces the contents when a site or key changes (<see cref="Replace"/>); each lookup reads one
/// immutable snapshot, so a request never sees half of a change.
/// </summary>
public sealed class SiteCatalog
{
    private volatile Snapshot current;

    /// <summary>A catalog of configured sites whose keys are given in clear (configuration, tests).</summary>
    public SiteCatalog(IEnumerable<SiteOptions> sites)
    {
        ArgumentNullException.ThrowIfNull(sites);
        var list = sites.ToList();
        current = Snapshot.Build(list, list.SelectMany(KeysOf), version: 0);
    }

    /// <summary>Raised after <see cref="Replace"/> installed new contents (on the caller's thread).</summary>
    public event Action<SiteCatalog>? Replaced;

    /// <summary>Bumped by every <see cref="Replace"/>: a consumer that derives state from the sites rebuilds it when this moves.</summary>
    public long Version => current.Version;

    public IReadOnlyCollection<SiteOptions> All => current.ById.Values;

    public SiteOptions? FindById(string siteId) => current.ById.GetValueOrDefault(siteId);

    /// <summary>The site and the grant of a presented key, or null for an unknown or revoked key.</summary>
    public (SiteOptions Site, KeyKind Kind)? FindByKey(string? key) =>
        string.IsNullOrEmpty(key) ? null : current.ByKeyHash.TryGetValue(HashKey(key), out var found) ? found : null;

    /// <summary>
    /// Installs new contents: the sites (their key lists are ignored) and the keys that work now, by hash. Throws, and
    /// keeps the old contents, when a site id or a key hash is given twice or a key names a site that is not given.
    /// </summary>
    public void Replace(IEnumerable<SiteOptions> sites, IEnumerable<SiteKeyHash> keys)
    {
        current = Snapshot.Build([.. sites], keys, current.Version + 1);
        Replaced?.Invoke(this);
    }

    /// <summary>How a key is stored and looked up: the SHA-256 of its UTF-8 bytes, upper-case hex.</summary>
    public static string HashKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    private static IEnumerable<SiteKeyHash> KeysOf(SiteOptions site)
    {
        foreach (var (keys, kind) in new[] { (site.WriteKeys, KeyKind.Write), (site.ServerKeys, KeyKind.Server), (site.ReadKeys, KeyKind.Read) })
        {
            foreach (var key in keys)
            {
                if (key.Length < 8)
                {
                    throw new InvalidOperationException($"Sites: a {kind} key of site '{site.Id}' is shorter than 8 characters.");
                }

                yield return new SiteKeyHash(site.Id, kind, HashKey(key));
            }
        }
    }

    private sealed record Snapshot(Dictionary<string, SiteOptions> ById, Dictionary<string, (SiteOptions Site, KeyKind Kind)> ByKeyHash, long Version)
    {
        public static Snapshot Build(List<SiteOptions> sites, IEnumerable<SiteKeyHash> keys, long version)
        {
            var byId = new Dictionary<string, SiteOptions>(StringComparer.Ordinal);
            foreach (var site in sites)
            {
                if (!byId.TryAdd(site.Id, site))
                {
                    throw new InvalidOperationException($"Sites: the site id '{site.Id}' is configured twice.");
                }
            }

            var byKeyHash = new Dictionary<string, (SiteOptions, KeyKind)>(StringComparer.Ordinal);
            foreach (var key in keys)
            {
                if (!byId.TryGetValue(key.SiteId, out var site))
                {
                    throw new InvalidOperationException($"Sites: a {key.Kind} key names the site '{key.SiteId}', which does not exist.");
                }

                if (!byKeyHash.TryAdd(key.Hash, (site, key.Kind)))
                {
                    throw new InvalidOperationException($"Sites: a key of site '{site.Id}' is used twice; every key must be unique.");
                }
            }

            return new Snapshot(byId, byKeyHash, version);
        }
    }
}
