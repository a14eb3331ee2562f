using System.Text.Json;
using Insights.Contracts;
using Insights.Ingest.Masking;

namespace Insights.Ingest.Tests.Unit;

/// <summary>What reaches Kafka from every string field: no card numbers, no e-mail addresses, no secrets in URLs.</summary>
public sealed class PersonalDataPolicyTests
{
    private static readonly SiteOptions Site = new() { Id = "demo" };
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-12-04T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static PipelineEvent Event(string type = EventTypes.Track, string? properties = null) => new()
    {
        EventId = "e1",
        Type = type,
        SiteId = "demo",
        AnonymousId = "v1",
        Timestamp = Now,
        ReceivedAt = Now,
        Properties = properties is null ? null : JsonDocument.Parse(properties).RootElement.Clone(),
    };

    private static PipelineEvent Scrubbed(PipelineEvent e, SiteOptions? site = null)
    {
        List<PipelineEvent> events = [e];
        PersonalDataPolicy.Apply(site ?? Site, events);
        return events[0];
    }

    private static string Props(PipelineEvent e) => e.Properties!.Value.GetRawText();

    [Fact]
    public void The_reported_track_event_keeps_its_shape_without_the_card_or_the_address()
    {
        var scrubbed = Scrubbed(Event(properties: """{"plan":"pro","card":"4111 1111 1111 1111","email":"maria.keller@example.com","seats":3}"""));

        Assert.Equal("""{"plan":"pro","card":"**** **** **** 1111","seats":3}""", Props(scrubbed));
    }

    [Fact]
    public void Every_string_at_any_depth_is_scrubbed_names_included()
    {
        var scrubbed = Scrubbed(Event(properties: """
            {"form":{"fields":[{"label":"Card","value":"5555-5555-5555-4444"},{"label":"Contact","value":"anna@shop.example"},
              {"note":"call me: anna@shop.example or 4111111111111111","n":4111111111111111}]},
             "4111 1111 1111 1111":true,"customerEmail":"x","billing":{"E-Mail":{"work":"w@b.example"},"has_email":true},
             "newsletter":"Anna@Shop.Example","grüße":"schön 4111 1111 1111 1111"}
            """));

        using var json = JsonDocument.Parse(Props(scrubbed));
        var root = json.RootElement;
        var fields = root.GetProperty("form").GetProperty("fields");
        Assert.Equal("****-****-****-4444", fields[0].GetProperty("value").GetString());
        Assert.Equal("[email]", fields[1].GetProperty("value").GetString());
        Assert.Equal("call me: [email] or ************1111", fields[2].GetProperty("note").GetString());
        // Numbers are amounts, counts and platform ids, never typed cards: kept as sent.
        Assert.Equal(4111111111111111, fields[2].GetProperty("n").GetInt64());
        Assert.True(root.GetProperty("**** **** **** 1111").GetBoolean());
        Assert.False(root.TryGetProperty("customerEmail", out _));
        Assert.False(root.GetProperty("billing").TryGetProperty("E-Mail", out _));
        Assert.True(root.GetProperty("billing").GetProperty("has_email").GetBoolean());
        Assert.Equal("[email]", root.GetProperty("newsletter").GetString());
        // Non-ASCII text stays readable, not \u-escaped.
        Assert.Contains("\"grüße\":\"schön **** **** **** 1111\"", Props(scrubbed), StringComparison.Ordinal);
        Assert.DoesNotContain("4111 1111", Props(scrubbed), StringComparison.Ordinal);
        Assert.DoesNotContain("@", Props(scrubbed), StringComparison.Ordinal);
    }

    [Fact]
    public void Escaped_digits_and_at_signs_are_read_as_what_they_spell()
    {
        var scrubbed = Scrubbed(Event(properties: """{"c":"\u0034111 1111 1111 1111","m":"maria\u0040example.com","s":"4111\u00a01111\n1111\t1111"}"""));

        using var json = JsonDocument.Parse(Props(scrubbed));
        Assert.Equal("**** **** **** 1111", json.RootElement.GetProperty("c").GetString());
        Assert.Equal("[email]", json.RootElement.GetProperty("m").GetString());
        Assert.Equal("****\u00A0****\n****\t1111", json.RootElement.GetProperty("s").GetString());
    }

    [Fact]
    public void Properties_without_personal_data_are_kept_as_the_same_element_and_event()
    {
        var e = Event(properties: """{"plan":"pro","ts":1733306400000,"order":"100234567","phone_ext":"+1 800 852 9001","price":"1,499.90","path":"/a/b"}""");
        var scrubbed = Scrubbed(e);

        Assert.Same(e, scrubbed);
    }

    [Theory]
    [InlineData("""{"a":"x"}""", false)]
    [InlineData("""{"ts":1733306400000123}""", false)] // a long number, not a string
    [InlineData("""{"a":"4111 1111 1111 1111"}""", true)]
    [InlineData("""{"a":"4111111111111"}""", true)]
    [InlineData("""{"a":"411111111111"}""", false)] // 12 digits: too short for a card
    [InlineData("""{"a":"2026-12-04 10:00:00"}""", false)]
    [InlineData("""{"a":"a@b"}""", true)]
    [InlineData("""{"Mail":1}""", true)]
    [InlineData("""{"a":"\u0040"}""", true)]
    [InlineData("""{"a":"\"1234567\"","b":"1234567"}""", false)] // digits split by quotes and keys
    [InlineData("""{"a":"٤١١١ ١١١١ ١١١١ ١١١١"}""", true)]
    [InlineData("""{"a":"日本語のテキスト"}""", false)]
    public void The_pre_scan_lets_through_only_what_may_need_a_change(string json, bool mayNeed) =>
        Assert.Equal(mayNeed, PropertiesScrubber.MightHoldPersonalData(System.Text.Encoding.UTF8.GetBytes(json)));

    [Theory]
    [InlineData("email", true)]
    [InlineData("E-Mail", true)]
    [InlineData("e_mail", true)]
    [InlineData("mail", true)]
    [InlineData("customerEmail", true)]
    [InlineData("billing_email_address", true)]
    [InlineData("Mail Address", true)]
    [InlineData("email_verified", false)]
    [InlineData("gmail_user", false)]
    [InlineData("mailing_list", false)]
    [InlineData("email_sha256", false)]
    public void Email_properties_are_known_by_their_name(string name, bool isEmail) =>
        Assert.Equal(isEmail, PropertiesScrubber.IsEmailName(name));

    [Fact]
    public void Identify_traits_lose_addresses_and_cards_but_keep_the_hash()
    {
        var e = Event(EventTypes.Identify, """{"name":"Maria","work_email":"maria@corp.example","backup":"m.k@private.example","card":"4111111111111111"}""") with
        {
            UserId = "u-7",
            EmailHash = "ab12",
        };

        var scrubbed = Scrubbed(e);

        Assert.Equal("""{"name":"Maria","backup":"[email]","card":"************1111"}""", Props(scrubbed));
        Assert.Equal("ab12", scrubbed.EmailHash);
        Assert.Equal("u-7", scrubbed.UserId);
    }

    [Fact]
    public void Free_text_fields_are_scrubbed_and_ids_are_left_as_join_keys()
    {
        var e = Event() with
        {
            Name = "Paid with 4111 1111 1111 1111",
            Title = "Welcome back, maria@example.com",
            Referrer = "https://mail.example/inbox?user=maria@example.com&tab=1",
            UtmContent = "maria@example.com",
            UtmCampaign = "winter",
            Coupon = "4111-1111-1111-1111",
            OrderId = "4111111111111111",
        };

        var scrubbed = Scrubbed(e);

        Assert.Equal("Paid with **** **** **** 1111", scrubbed.Name);
        Assert.Equal("Welcome back, [email]", scrubbed.Title);
        Assert.Equal("https://mail.example/inbox?tab=1", scrubbed.Referrer);
        Assert.Equal("[email]", scrubbed.UtmContent);
        Assert.Same(e.UtmCampaign, scrubbed.UtmCampaign);
        Assert.Equal("****-****-****-1111", scrubbed.Coupon);
        Assert.Equal("4111111111111111", scrubbed.OrderId);
        Assert.Equal("v1", scrubbed.AnonymousId);
    }

    [Theory]
    [InlineData("https://shop.example/?utm_source=news&utm_medium=email&token=abc123&utm_campaign=winter",
        "https://shop.example/?utm_source=news&utm_medium=email&utm_campaign=winter")]
    [InlineData("https://shop.example/reset?TOKEN=abc", "https://shop.example/reset")]
    [InlineData("https://shop.example/reset?token=abc#top", "https://shop.example/reset#top")]
    [InlineData("https://shop.example/a?x=1&Password=hunter2&y=%20two&API_KEY=k&z", "https://shop.example/a?x=1&y=%20two&z")]
    [InlineData("https://shop.example/?ref=maria%40example.com&gclid=Cj0", "https://shop.example/?gclid=Cj0")]
    [InlineData("https://shop.example/?to=maria@example.com", "https://shop.example/")]
    [InlineData("https://shop.example/?e%2Dmail=x&q=a+b", "https://shop.example/?q=a+b")] // a percent-encoded name
    [InlineData("https://app.example/callback#access_token=ya29&token_type=Bearer&state=s1", "https://app.example/callback#token_type=Bearer&state=s1")]
    [InlineData("https://app.example/#/reset?code=123456&step=2", "https://app.example/#/reset?step=2")]
    [InlineData("https://shop.example/orders/4111111111111111?x=1", "https://shop.example/orders/************1111?x=1")]
    [InlineData("https://shop.example/users/maria@example.com/profile", "https://shop.example/users/[email]/profile")]
    public void Urls_lose_listed_parameters_and_addresses_and_keep_the_rest_byte_for_byte(string url, string expected)
    {
        var scrubbed = Scrubbed(Event(EventTypes.Pageview) with { Url = url });

        Assert.Equal(expected, scrubbed.Url);
    }

    [Theory]
    [InlineData("https://shop.example/")]
    [InlineData("https://shop.example/?utm_source=news&utm_medium=cpc&utm_campaign=winter&gclid=Cj0KCQ&q=a+b&keyword=x&codes=1")]
    [InlineData("https://shop.example/#section-2")]
    [InlineData("https://shop.example/?a=1&&b=2#x=%40")]
    public void Urls_with_nothing_to_strip_are_the_same_instance(string url)
    {
        var e = Event(EventTypes.Pageview) with { Url = url };

        Assert.Same(e, Scrubbed(e));
    }

    [Fact]
    public void A_site_list_replaces_the_defaults()
    {
        var site = new SiteOptions { Id = "demo", StripQueryParameters = ["ref"] };
        var scrubbed = Scrubbed(Event(EventTypes.Pageview) with { Url = "https://shop.example/?ref=partner&code=SUMMER&to=a@b.example" }, site);

        // "code" is a promotion here, not an OAuth code; addresses go whatever the list says.
        Assert.Equal("https://shop.example/?code=SUMMER", scrubbed.Url);
    }

    [Fact]
    public void Chat_text_follows_the_site_and_card_numbers_are_always_masked()
    {
        var chat = Event(EventTypes.ChatMessage) with { ChatId = "c", MessageText = "Card 4111 1111 1111 1111, mail me at maria.keller@example.com." };

        Assert.Null(Scrubbed(chat).MessageText);
        Assert.Equal("Card **** **** **** 1111, mail me at maria.keller@example.com.",
            Scrubbed(chat, new SiteOptions { Id = "demo", StoreChatText = true }).MessageText);
        Assert.Equal("Card **** **** **** 1111, mail me at [email].",
            Scrubbed(chat, new SiteOptions { Id = "demo", StoreChatText = true, MaskEmailsInChat = true }).MessageText);
    }

    [Fact]
    public void Deeply_nested_and_huge_properties_are_scrubbed()
    {
        const int depth = 60;
        var nested = string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "\"4111 1111 1111 1111\"" + new string('}', depth);
        var scrubbed = Scrubbed(Event(properties: nested));
        Assert.Contains("\"**** **** **** 1111\"", Props(scrubbed), StringComparison.Ordinal);

        var huge = new string('x', 2_000_000) + " maria@example.com 4111 1111 1111 1111";
        var big = Scrubbed(Event(properties: JsonSerializer.Serialize(new Dictionary<string, string> { ["note"] = huge })));
        Assert.EndsWith("x [email] **** **** **** 1111", JsonDocument.Parse(Props(big)).RootElement.GetProperty("note").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_title_with_a_lone_surrogate_is_scrubbed_without_failing()
    {
        var scrubbed = Scrubbed(Event(EventTypes.Pageview) with { Title = "\uD800 4111 1111 1111 1111 a@b.example \uDFFF" });

        Assert.Equal("\uD800 **** **** **** 1111 [email] \uDFFF", scrubbed.Title);
    }
}
