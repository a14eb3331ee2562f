using Insights.Processors.Sessions;

namespace Insights.Processors.Tests;

public sealed class ChannelClassifierTests
{
    private const string Landing = "https://shop.example.com/pricing";

    /// <summary>Referrers as browsers send them (full URLs, app referrers), through the same host extraction as the events table.</summary>
    public static TheoryData<string, string> Referrers => new()
    {
        { "https://www.google.com/", Channels.Search },
        { "https://www.google.co.uk/", Channels.Search },
        { "https://www.google.de/search?q=crm", Channels.Search },
        { "https://www.bing.com/search?q=live+chat+software", Channels.Search },
        { "https://duckduckgo.com/", Channels.Search },
        { "https://search.yahoo.com/search?p=helpdesk", Channels.Search },
        { "https://yandex.ru/search/?text=chat", Channels.Search },
        { "https://www.baidu.com/link?url=abc", Channels.Search },
        { "https://www.ecosia.org/search?q=chat", Channels.Search },
        { "https://search.brave.com/search?q=chat", Channels.Search },
        { "https://www.facebook.com/", Channels.Social },
        { "https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example.com", Channels.Social },
        { "https://m.facebook.com/", Channels.Social },
        { "https://lm.facebook.com/", Channels.Social },
        { "https://l.instagram.com/", Channels.Social },
        { "https://t.co/Ab12Cd34", Channels.Social },
        { "https://x.com/", Channels.Social },
        { "https://www.linkedin.com/feed/", Channels.Social },
        { "https://lnkd.in/e7xYz", Channels.Social },
        { "https://out.reddit.com/t3_abc", Channels.Social },
        { "https://old.reddit.com/r/smallbusiness", Channels.Social },
        { "https://news.ycombinator.com/item?id=1", Channels.Social },
        { "https://www.youtube.com/", Channels.Social },
        { "android-app://com.linkedin.android/", Channels.Social },
        { "https://mail.google.com/", Channels.Email },
        { "https://outlook.live.com/", Channels.Email },
        { "https://outlook.office.com/mail/inbox", Channels.Email },
        { "https://mail.yahoo.com/d/folders/1", Channels.Email },
        { "android-app://com.google.android.gm/", Channels.Email },
        { "https://www.googleadservices.com/pagead/aclk?sa=L", Channels.Paid },
        { "https://adclick.g.doubleclick.net/pcs/click", Channels.Paid },
        { "https://www.g2.com/products/insights/reviews", Channels.Referral },
        { "https://github.com/insights/insights", Channels.Referral },
        { "https://google.evil.example/", Channels.Referral },
        { "https://yahoo-news.example/", Channels.Referral },
        { "https://blog.partner.example/post", Channels.Referral },
        { "https://shop.example.com/cart", Channels.Direct },
        { "https://www.shop.example.com/", Channels.Direct },
        { "", Channels.Direct },
    };

    [Theory]
    [MemberData(nameof(Referrers))]
    public void The_referrer_decides_when_the_landing_page_carries_no_tags(string referrer, string channel) =>
        Assert.Equal(channel, ChannelClassifier.Classify(EventRowMapper.ReferrerHostOf(referrer), Landing, null, null));

    [Theory]
    [InlineData("google", "cpc", "https://www.google.com/", Channels.Paid)]
    [InlineData("facebook", "paid_social", "https://l.facebook.com/", Channels.Paid)]
    [InlineData("newsletter", "email", "https://mail.google.com/", Channels.Email)]
    [InlineData("mailchimp", null, "https://mail.google.com/", Channels.Email)]
    [InlineData("linkedin", "social", "https://www.google.com/", Channels.Social)]
    [InlineData("facebook", "partner-post", "", Channels.Social)]
    [InlineData("google", "organic", "", Channels.Search)]
    [InlineData("instagram", "organic", "", Channels.Social)]
    [InlineData("capterra", "referral", "https://www.google.com/", Channels.Referral)]
    [InlineData("podcast", "audio", "", Channels.Referral)]
    [InlineData("", "CPC", "", Channels.Paid)]
    [InlineData(" Email ", "", "", Channels.Email)]
    public void Utm_tags_win_over_the_referrer(string? source, string? medium, string referrer, string channel) =>
        Assert.Equal(channel, ChannelClassifier.Classify(EventRowMapper.ReferrerHostOf(referrer), Landing, source, medium));

    [Theory]
    [InlineData("https://shop.example.com/?gclid=Cj0KCQiA", Channels.Paid)]
    [InlineData("https://shop.example.com/?x=1&msclkid=abc#top", Channels.Paid)]
    [InlineData("https://shop.example.com/?wbraid=1", Channels.Paid)]
    [InlineData("https://shop.example.com/?gclid=", Channels.Search)]
    [InlineData("https://shop.example.com/?notgclid=1", Channels.Search)]
    [InlineData("https://shop.example.com/#gclid=1", Channels.Search)]
    public void An_ad_click_id_on_the_landing_page_is_paid_traffic(string landing, string channel) =>
        Assert.Equal(channel, ChannelClassifier.Classify("google.com", landing, null, null));

    [Fact]
    public void A_huge_referrer_or_query_is_classified_without_failing() =>
        Assert.Equal(Channels.Referral, ChannelClassifier.Classify(new string('a', 100_000) + ".example", Landing + "?" + new string('&', 100_000), null, null));
}
