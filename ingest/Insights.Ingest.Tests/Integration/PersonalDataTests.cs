using System.Text.Json;
using Insights.DevStack.Testing;

namespace Insights.Ingest.Tests.Integration;

/// <summary>
/// What reaches Kafka through the real endpoint: card numbers masked and e-mail addresses gone from properties,
/// traits, titles and URLs, secrets stripped from URLs, campaigns still read. The raw message is searched too, so a
/// copy of the data in any field would be seen.
/// </summary>
public sealed class PersonalDataTests(DevStackFixture stack)
{
    private const string Card = "4111 1111 1111 1111";
    private const string Address = "maria.keller@example.com";
    private const string OwnListKey = "own-strip-list-write-key-0001";

    private static readonly Dictionary<string, string?> Sites = new()
    {
        ["Sites:92:Id"] = "own-list",
        ["Sites:92:WriteKeys:0"] = OwnListKey,
        ["Sites:92:StripQueryParameters:0"] = "ref",
        ["Sites:92:StripQueryParameters:1"] = "affiliate",
    };

    [Fact]
    public async Task A_track_event_with_a_card_and_an_address_in_its_properties_reaches_kafka_without_either()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap, Sites);
        // The report's finding, as a browser would send it.
        var response = await host.PostAsync($$$"""
            {"type":"track","event":"Checkout Note","messageId":"t1","anonymousId":"v1",
             "properties":{"note":"my card is {{{Card}}}","email":"{{{Address}}}","contact":"{{{Address}}}",
               "form":{"rows":[{"cc":"4111-1111-1111-1111"},{"cc":"\u0664\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 \u0661\u0661\u0661\u0661"}]},
               "plan":"pro","seats":3}}
            """);
        await Answer.AcceptedAsync(response, 1);

        var message = Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1));
        var properties = message.Event.Properties!.Value;
        Assert.Equal("my card is **** **** **** 1111", properties.GetProperty("note").GetString());
        Assert.False(properties.TryGetProperty("email", out _));
        Assert.Equal("[email]", properties.GetProperty("contact").GetString());
        var rows = properties.GetProperty("form").GetProperty("rows");
        Assert.Equal("****-****-****-1111", rows[0].GetProperty("cc").GetString());
        Assert.Equal("**** **** **** \u0661\u0661\u0661\u0661", rows[1].GetProperty("cc").GetString());
        Assert.Equal("pro", properties.GetProperty("plan").GetString());
        Assert.Equal(3, properties.GetProperty("seats").GetInt32());
        AssertClean(message.Value);
    }

    [Fact]
    public async Task Identify_traits_keep_the_email_hash_and_lose_the_addresses_and_cards()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap, Sites);
        var response = await host.PostAsync($$$"""
            {"type":"identify","messageId":"i1","anonymousId":"v1","userId":"u-7",
             "traits":{"email":"{{{Address}}}","work_email":"m.keller@corp.example","name":"Maria","payment":"{{{Card}}}"}}
            """);
        await Answer.AcceptedAsync(response, 1);

        var message = Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1));
        Assert.Equal(Insights.Contracts.EmailHash.Of(Address), message.Event.EmailHash);
        var traits = message.Event.Properties!.Value;
        Assert.Equal("""{"name":"Maria","payment":"**** **** **** 1111"}""", traits.GetRawText());
        AssertClean(message.Value);
        Assert.DoesNotContain("m.keller", message.Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_page_view_keeps_its_campaign_and_loses_secrets_and_addresses_from_url_title_and_referrer()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap, Sites);
        var response = await host.PostAsync($$$"""
            {"type":"page","messageId":"p1","anonymousId":"v1","context":{"page":{
              "url":"https://shop.example/welcome?utm_source=news&utm_medium=email&email=maria.keller%40example.com&token=s3cr3t&utm_campaign=winter#top",
              "referrer":"https://mail.example/read?msg=1&to={{{Address}}}&Session=abc",
              "title":"Order for {{{Address}}}, card {{{Card}}}"} } }
            """);
        await Answer.AcceptedAsync(response, 1);

        var message = Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1));
        var e = message.Event;
        Assert.Equal("https://shop.example/welcome?utm_source=news&utm_medium=email&utm_campaign=winter#top", e.Url);
        Assert.Equal("https://mail.example/read?msg=1", e.Referrer);
        Assert.Equal("Order for [email], card **** **** **** 1111", e.Title);
        Assert.Equal(("news", "email", "winter"), (e.UtmSource, e.UtmMedium, e.UtmCampaign));
        AssertClean(message.Value);
        Assert.DoesNotContain("s3cr3t", message.Value, StringComparison.Ordinal);
        Assert.DoesNotContain("maria.keller%40", message.Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_site_strip_list_from_configuration_replaces_the_default_list()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap, Sites);
        var response = await host.PostAsync("""
            {"type":"page","messageId":"p2","anonymousId":"v1","url":"https://own.example/?REF=partner-9&code=SUMMER&Affiliate=x&utm_source=ads"}
            """, key: OwnListKey);
        await Answer.AcceptedAsync(response, 1);

        var message = Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1));
        Assert.Equal("https://own.example/?code=SUMMER&utm_source=ads", message.Event.Url);
    }

    [Fact]
    public async Task Hostile_properties_are_scrubbed_or_refused_never_stored_raw()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap, Sites);
        // Near the 32 KB event limit, the card at the very end; nested as deep as ingest allows; a lone surrogate.
        var padding = new string('\u00E9', 15_000);
        const int depth = 28;
        var nested = string.Concat(Enumerable.Repeat("{\"n\":", depth)) + $"\"{Card}\"" + new string('}', depth);
        var body = $$$"""
            [{"type":"track","event":"big","messageId":"h1","anonymousId":"v1","properties":{"text":"{{{padding}}} {{{Card}}}"}},
             {"type":"track","event":"deep","messageId":"h2","anonymousId":"v1","properties":{{{nested}}}},
             {"type":"track","event":"surrogate","messageId":"h3","anonymousId":"v1","properties":{"a":"\ud800 {{{Card}}}"}},
             {"type":"track","event":"{{{Card}}}","messageId":"h4","anonymousId":"v1"}]
            """;
        var response = await host.PostAsync(body);
        var answer = await Answer.AcceptedAsync(response, 3);
        Assert.Equal([(2, "invalid_field")], Answer.Rejections(answer));

        var messages = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 3).ToDictionary(m => m.Event.EventId);
        Assert.EndsWith(padding + " **** **** **** 1111", messages["pub:h1"].Event.Properties!.Value.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Contains("\"**** **** **** 1111\"", messages["pub:h2"].Event.Properties!.Value.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("**** **** **** 1111", messages["pub:h4"].Event.Name);
        foreach (var message in messages.Values)
        {
            AssertClean(message.Value);
        }
    }

    // Neither the card (in any of the shapes sent) nor the address appears anywhere in the stored message.
    private static void AssertClean(string value)
    {
        var decoded = JsonDocument.Parse(value).RootElement.ToString();
        foreach (var text in new[] { value, decoded })
        {
            Assert.DoesNotContain(Card, text, StringComparison.Ordinal);
            Assert.DoesNotContain("4111-1111", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\u0664\u0661\u0661\u0661", text, StringComparison.Ordinal);
            Assert.DoesNotContain(Address, text, StringComparison.Ordinal);
        }
    }
}
