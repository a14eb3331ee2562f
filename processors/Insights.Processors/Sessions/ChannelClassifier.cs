using System.Collections.Frozen;

namespace Insights.Processors.Sessions;

/// <summary>Acquisition channels of a session, stored as these lowercase names.</summary>
public static class Channels
{
    public const string Search = "search";
    public const string Social = "social";
    public const string Email = "email";
    public const string Paid = "paid";
    public const string Referral = "referral";
    public const string Direct = "direct";
}

/// <summary>
/// Where a session came from, from its landing page's UTM tags and ad click ids and its referrer. Tags win: a
/// campaign link the marketer labelled says more than the host the click came through (a newsletter opened in
/// Gmail's web client has mail.google.com as referrer and <c>utm_medium=email</c>; an ad on Facebook has
/// facebook.com and <c>utm_medium=cpc</c>). Without tags the referrer's host decides, against lists of search
/// engines, social networks and webmail hosts (GA4's default channel grouping, reduced to six channels); a
/// referrer on the site's own host (a session that timed out mid-visit) and no referrer at all are direct.
/// </summary>
/// <remarks>Runs once per session, not per event.</remarks>
public static class ChannelClassifier
{
    // utm_medium values, lowercased, as GA4 and the big ad platforms write them.
    private static readonly FrozenDictionary<string, string> Mediums = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["cpc"] = Channels.Paid, ["ppc"] = Channels.Paid, ["paid"] = Channels.Paid, ["paidsearch"] = Channels.Paid,
        ["paid_search"] = Channels.Paid, ["paid-search"] = Channels.Paid, ["paidsocial"] = Channels.Paid,
        ["paid_social"] = Channels.Paid, ["paid-social"] = Channels.Paid, ["cpm"] = Channels.Paid, ["cpv"] = Channels.Paid,
        ["cpa"] = Channels.Paid, ["cpp"] = Channels.Paid, ["display"] = Channels.Paid, ["banner"] = Channels.Paid,
        ["retargeting"] = Channels.Paid, ["remarketing"] = Channels.Paid, ["ads"] = Channels.Paid, ["ad"] = Channels.Paid,
        ["email"] = Channels.Email, ["e-mail"] = Channels.Email, ["e_mail"] = Channels.Email, ["mail"] = Channels.Email,
        ["newsletter"] = Channels.Email,
        ["social"] = Channels.Social, ["social-network"] = Channels.Social, ["social_network"] = Channels.Social,
        ["social-media"] = Channels.Social, ["social_media"] = Channels.Social, ["sm"] = Channels.Social,
        ["social network"] = Channels.Social, ["social media"] = Channels.Social, ["organic_social"] = Channels.Social,
        ["organic"] = Channels.Search, ["seo"] = Channels.Search,
        ["referral"] = Channels.Referral, ["link"] = Channels.Referral, ["affiliate"] = Channels.Referral,
        ["partner"] = Channels.Referral,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // Ad platforms append these to the landing URL on every paid click, tagged or not.
    private static readonly string[] PaidClickIds = ["gclid", "gbraid", "wbraid", "dclid", "msclkid", "ttclid", "twclid", "li_fat_id", "gad_source"];

    // Hosts (and their subdomains) by channel. Search engines with country domains are matched by name below.
    private static readonly FrozenDictionary<string, string> Hosts = BuildHosts();

    // google.com, google.co.uk, google.de, yandex.ru, yahoo.co.jp …: the engine's label followed by a public suffix.
    private static readonly FrozenSet<string> SearchEngineLabels = FrozenSet.ToFrozenSet(
        ["google", "bing", "yahoo", "yandex", "baidu", "duckduckgo", "ecosia", "naver", "seznam", "qwant", "startpage", "sogou", "daum", "coccoc"],
        StringComparer.Ordinal);

    /// <summary>The channel of a session landing on <paramref name="landingUrl"/> from <paramref name="referrerHost"/>.</summary>
    /// <param name="referrerHost">The referrer's host, lower case, without <c>www.</c> (as stored in <c>referrer_host</c>).</param>
    /// <param name="landingUrl">The entry page's full URL (its query holds the click ids).</param>
    public static string Classify(string? referrerHost, string? landingUrl, string? utmSource, string? utmMedium)
    {
        var medium = Normalize(utmMedium);
        var source = Normalize(utmSource);
        if (medium.Length > 0 && Mediums.TryGetValue(medium, out var byMedium))
        {
            // "organic" from a source that is not a search engine (a social profile link, say) is that source's channel.
            return byMedium == Channels.Search && source.Length > 0 ? OfSource(source) ?? Channels.Search : byMedium;
        }

        if (HasPaidClickId(landingUrl))
        {
            return Channels.Paid;
        }

        if (source.Length > 0 || medium.Length > 0)
        {
            // Tagged, but with a medium no list knows: the source may still name a network (utm_source=facebook).
            return (source.Length > 0 ? OfSource(source) : null) ?? Channels.Referral;
        }

        var host = referrerHost ?? "";
        if (host.Length == 0 || IsSameSite(host, landingUrl))
        {
            return Channels.Direct;
        }

        return OfHost(host) ?? Channels.Referral;
    }

    /// <summary>The channel a referrer host belongs to, or null for an ordinary website (referral).</summary>
    public static string? OfHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var span = host.AsSpan().TrimEnd('.');
        var lookup = Hosts.GetAlternateLookup<ReadOnlySpan<char>>();
        // mail.google.com is webmail, google.com search: the most specific listed suffix decides.
        for (var rest = span; rest.Length > 0;)
        {
            if (lookup.TryGetValue(rest, out var channel))
            {
                return channel;
            }

            var dot = rest.IndexOf('.');
            rest = dot < 0 ? [] : rest[(dot + 1)..];
        }

        return IsSearchEngineHost(span) ? Channels.Search : null;
    }

    // www.google.co.uk, google.de, search.yahoo.co.jp: an engine's label followed only by suffix labels (2–3 letters,
    // or "com"/"net"), so "google.evil.example" and "yahoo-news.example" stay referrals.
    private static bool IsSearchEngineHost(ReadOnlySpan<char> host)
    {
        var labels = host.ToString().Split('.');
        for (var i = 0; i < labels.Length - 1; i++)
        {
            if (!SearchEngineLabels.Contains(labels[i]))
            {
                continue;
            }

            var suffixOnly = true;
            for (var j = i + 1; j < labels.Length && suffixOnly; j++)
            {
                suffixOnly = labels[j].Length is 2 or 3 && labels[j].All(char.IsAsciiLetterLower);
            }

            if (suffixOnly)
            {
                return true;
            }
        }

        return false;
    }

    private static string? OfSource(string source)
    {
        if (source.Contains("mail", StringComparison.Ordinal) || source.Contains("newsletter", StringComparison.Ordinal))
        {
            return Channels.Email;
        }

        return source switch
        {
            "google" or "bing" or "yahoo" or "duckduckgo" or "yandex" or "baidu" or "ecosia" or "naver" or "brave" => Channels.Search,
            "facebook" or "fb" or "instagram" or "ig" or "twitter" or "x" or "linkedin" or "reddit" or "pinterest"
                or "youtube" or "tiktok" or "threads" or "bluesky" or "mastodon" or "whatsapp" or "telegram" => Channels.Social,
            _ => source.Contains('.', StringComparison.Ordinal) ? OfHost(source) : null,
        };
    }

    private static bool HasPaidClickId(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return false;
        }

        var question = url.IndexOf('?', StringComparison.Ordinal);
        if (question < 0)
        {
            return false;
        }

        var end = url.IndexOf('#', question);
        var query = url.AsSpan(question + 1, (end < 0 ? url.Length : end) - question - 1);
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            var equals = pair.IndexOf('=');
            var name = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? [] : pair[(equals + 1)..];
            if (value.Length == 0)
            {
                continue;
            }

            foreach (var id in PaidClickIds)
            {
                if (name.Equals(id, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsSameSite(string referrerHost, string? landingUrl)
    {
        var siteHost = Insights.Processors.EventRowMapper.ReferrerHostOf(landingUrl);
        return siteHost.Length > 0 && (referrerHost == siteHost
            || referrerHost.EndsWith("." + siteHost, StringComparison.Ordinal)
            || siteHost.EndsWith("." + referrerHost, StringComparison.Ordinal));
    }

    private static string Normalize(string? tag) => string.IsNullOrWhiteSpace(tag) ? "" : tag.Trim().ToLowerInvariant();

    private static FrozenDictionary<string, string> BuildHosts()
    {
        var hosts = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string channel, params string[] names)
        {
            foreach (var name in names)
            {
                hosts[name] = channel;
            }
        }

        Add(Channels.Search,
            "search.brave.com", "duckduckgo.com", "ecosia.org", "startpage.com", "qwant.com", "search.yahoo.com", "baidu.com",
            "yandex.com", "yandex.ru", "naver.com", "seznam.cz", "sogou.com", "so.com", "ask.com", "search.aol.com", "kagi.com",
            "perplexity.ai", "you.com", "search.naver.com", "m.baidu.com", "presearch.com", "mojeek.com", "petalsearch.com");
        Add(Channels.Social,
            "facebook.com", "fb.com", "fb.me", "messenger.com", "instagram.com", "threads.net", "threads.com", "t.co", "twitter.com",
            "x.com", "linkedin.com", "lnkd.in", "reddit.com", "redd.it", "pinterest.com", "pin.it", "youtube.com", "youtu.be",
            "tiktok.com", "news.ycombinator.com", "quora.com", "tumblr.com", "vk.com", "ok.ru", "weibo.com", "bsky.app",
            "mastodon.social", "discord.com", "discord.gg", "t.me", "telegram.org", "web.telegram.org", "whatsapp.com",
            "wa.me", "snapchat.com", "xing.com", "stackoverflow.com", "producthunt.com", "medium.com", "line.me",
            "com.google.android.youtube", "com.facebook.katana", "com.linkedin.android", "com.reddit.frontpage");
        Add(Channels.Email,
            "mail.google.com", "inbox.google.com", "outlook.live.com", "outlook.office.com", "outlook.office365.com",
            "mail.yahoo.com", "mail.yahoo.co.jp", "mail.aol.com", "mail.proton.me", "mail.protonmail.com", "mail.zoho.com",
            "mail.yandex.ru", "e.mail.ru", "mail.ru", "webmail.gmx.net", "gmx.net", "web.de", "navigator.web.de", "mail.com",
            "fastmail.com", "app.fastmail.com", "icloud.com", "mail.qq.com", "tuta.com", "mail.tutanota.com",
            "com.google.android.gm", "com.microsoft.office.outlook");
        // Ad networks' redirectors: a click that kept its referrer but lost its tags.
        Add(Channels.Paid,
            "googleadservices.com", "googlesyndication.com", "doubleclick.net", "ads.google.com", "adclick.g.doubleclick.net",
            "bat.bing.com", "ads.linkedin.com", "ads.twitter.com", "taboola.com", "outbrain.com", "criteo.com");
        return hosts.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
