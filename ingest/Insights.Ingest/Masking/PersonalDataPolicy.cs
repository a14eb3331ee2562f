using Insights.Contracts;

namespace Insights.Ingest.Masking;

/// <summary>
/// The one privacy step between a parsed batch and Kafka: whatever a client or a platform sent, no card number and no
/// e-mail address is stored by accident, and chat text only as the site allows. Every path that produces events (the
/// events endpoint, every webhook) applies it to the whole batch, after campaign parameters were read from the URL.
/// </summary>
/// <remarks>
/// Per field:
/// <list type="bullet">
/// <item>Free text a person or a page wrote (<c>name</c>, <c>title</c>, <c>locale</c>, <c>coupon</c>, <c>channel</c>,
/// <c>message_author</c>, the five <c>utm_*</c> values): card numbers masked, e-mail addresses become <c>[email]</c>.</item>
/// <item><c>url</c> and <c>referrer</c>: the site's <see cref="SiteOptions.StripQueryParameters"/> and any parameter
/// holding an e-mail address removed (<see cref="UrlScrubber"/>), then as free text.</item>
/// <item><c>properties</c> (track properties, identify traits, order items), every string at any depth, names too:
/// see <see cref="PropertiesScrubber"/>.</item>
/// <item><c>message_text</c>: dropped unless the site stores chat text (<see cref="SiteOptions.StoreChatText"/>); then
/// card numbers masked, and e-mail addresses when the site asks (<see cref="SiteOptions.MaskEmailsInChat"/>).</item>
/// <item>Left alone: the ids (<c>event_id</c>, <c>anonymous_id</c>, <c>user_id</c>, <c>chat_id</c>, <c>agent_id</c>,
/// <c>order_id</c>) because they are join and deduplication keys: masking is many-to-one (two cards ending in 1111 mask
/// alike), so masking an id could merge two people or drop one order as a duplicate of another. The e-mail hash is
/// the join key that replaces an address. Also left: <c>ip</c> and <c>user_agent</c> (the site's IP mode governs the
/// IP downstream) and the validated codes (<c>type</c>, <c>site_id</c>, <c>source</c>, <c>currency</c>).</item>
/// </list>
/// Nothing is allocated for an event that holds nothing to mask: every check is a search over what is already there.
/// </remarks>
public static class PersonalDataPolicy
{
    /// <summary>Replaces, in place, every event of the batch that holds something the site may not keep.</summary>
    public static void Apply(SiteOptions site, IList<PipelineEvent> events)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(events);
        var strip = site.StripQueryParameters ?? SiteOptions.DefaultStripQueryParameters;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var scrubbed = Scrub(site, strip, e);
            if (!ReferenceEquals(scrubbed, e))
            {
                events[i] = scrubbed;
            }
        }
    }

    /// <summary>A chat message's text as the site may keep it, or null.</summary>
    public static string? ChatText(SiteOptions site, string? text)
    {
        ArgumentNullException.ThrowIfNull(site);
        if (!site.StoreChatText || string.IsNullOrEmpty(text))
        {
            return null;
        }

        var masked = CardNumberMasker.Mask(text);
        return site.MaskEmailsInChat ? EmailMasker.Mask(masked) : masked;
    }

    /// <summary>Card numbers masked and e-mail addresses replaced by <c>[email]</c>; the same instance when there is neither.</summary>
    public static string? FreeText(string? text) => text is null ? null : EmailMasker.Mask(CardNumberMasker.Mask(text));

    private static PipelineEvent Scrub(SiteOptions site, IReadOnlyList<string> strip, PipelineEvent e)
    {
        var name = FreeText(e.Name);
        var url = e.Url is null ? null : FreeText(UrlScrubber.Strip(e.Url, strip));
        var referrer = e.Referrer is null ? null : FreeText(UrlScrubber.Strip(e.Referrer, strip));
        var title = FreeText(e.Title);
        var locale = FreeText(e.Locale);
        var utmSource = FreeText(e.UtmSource);
        var utmMedium = FreeText(e.UtmMedium);
        var utmCampaign = FreeText(e.UtmCampaign);
        var utmTerm = FreeText(e.UtmTerm);
        var utmContent = FreeText(e.UtmContent);
        var coupon = FreeText(e.Coupon);
        var channel = FreeText(e.Channel);
        var author = FreeText(e.MessageAuthor);
        var text = e.MessageText is null ? null : ChatText(site, e.MessageText);
        var properties = e.Properties;
        var propertiesChanged = false;
        if (properties is { } p && PropertiesScrubber.TryScrub(p, out var scrubbed))
        {
            properties = scrubbed;
            propertiesChanged = true;
        }

        var same = ReferenceEquals(name, e.Name) && ReferenceEquals(url, e.Url) && ReferenceEquals(referrer, e.Referrer)
            && ReferenceEquals(title, e.Title) && ReferenceEquals(locale, e.Locale)
            && ReferenceEquals(utmSource, e.UtmSource) && ReferenceEquals(utmMedium, e.UtmMedium)
            && ReferenceEquals(utmCampaign, e.UtmCampaign) && ReferenceEquals(utmTerm, e.UtmTerm)
            && ReferenceEquals(utmContent, e.UtmContent) && ReferenceEquals(coupon, e.Coupon)
            && ReferenceEquals(channel, e.Channel) && ReferenceEquals(author, e.MessageAuthor)
            && ReferenceEquals(text, e.MessageText) && !propertiesChanged;
        return same ? e : e with
        {
            Name = name,
            Url = url,
            Referrer = referrer,
            Title = title,
            Locale = locale,
            UtmSource = utmSource,
            UtmMedium = utmMedium,
            UtmCampaign = utmCampaign,
            UtmTerm = utmTerm,
            UtmContent = utmContent,
            Coupon = coupon,
            Channel = channel,
            MessageAuthor = author,
            MessageText = text,
            Properties = properties,
        };
    }
}
