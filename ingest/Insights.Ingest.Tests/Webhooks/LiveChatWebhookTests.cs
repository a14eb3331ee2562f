using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Insights.Contracts;
using Insights.Ingest.Parsing;
using Insights.Ingest.Webhooks;
using static Insights.Ingest.Tests.Webhooks.WebhookFixtures;

namespace Insights.Ingest.Tests.Webhooks;

/// <summary>LiveChat webhooks (v3.5/v3.6 formats): the secret in the body, and what each action becomes.</summary>
public sealed class LiveChatWebhookTests
{
    private const string Customer = "5f1e0c6a-2b7d-4c3e-9a8f-1d2e3f4a5b6c";
    private static readonly string MariaHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("maria.keller@example.com")));

    private static WebhookOutcome Receive(byte[] body, SiteOptions? site = null) => LiveChatWebhook.Receive(body, LiveChatSecret, Context(site));

    private static List<PipelineEvent> Events(byte[] body, SiteOptions? site = null)
    {
        var outcome = Receive(body, site);
        Assert.True(outcome.Verdict == WebhookVerdict.Events, outcome.ToString());
        // Every event must survive the Kafka encoding and the processors' decoding.
        return outcome.Events.Select(e => EventCodec.Decode(EventCodec.Encode(e)).Event!).ToList();
    }

    [Fact]
    public void Incoming_chat_starts_the_chat_for_the_visitor_the_glue_named_with_its_messages_and_form()
    {
        var events = Events(Bytes("livechat/incoming_chat.json"));

        Assert.Equal([EventTypes.ChatStarted, EventTypes.Identify, EventTypes.ChatMessage], events.Select(e => e.Type));
        var started = events[0];
        Assert.Equal("livechat:RQ7XLTBA01:chat_started", started.EventId);
        Assert.Equal(("RQ7XLTBA01", "anna@shop.example", "website", "k2x9c0v1s1t0r"), (started.ChatId, started.AgentId, started.Channel, started.AnonymousId));
        Assert.Equal(MariaHash, started.EmailHash);
        Assert.Equal(("203.0.113.77", "https://shop.example/products/espresso-machine"), (started.Ip, started.Url));
        Assert.StartsWith("Mozilla/5.0 (Windows NT 10.0", started.UserAgent, StringComparison.Ordinal);
        Assert.Equal(new DateTimeOffset(2026, 10, 5, 9, 30, 0, TimeSpan.Zero), started.Timestamp);
        Assert.Equal(ReceivedAt, started.ReceivedAt);
        Assert.Equal(("livechat", "demo:k2x9c0v1s1t0r"), (started.Source, started.PartitionKey));
        Assert.Equal("""{"livechat_chat_id":"RQ7XLTB9C2","livechat_customer_id":"5f1e0c6a-2b7d-4c3e-9a8f-1d2e3f4a5b6c","tags":["sales"]}""",
            started.Properties?.GetRawText());

        // The pre-chat form's e-mail answer identifies the visitor; the address itself goes nowhere.
        var form = events[1];
        Assert.Equal(("livechat:RQ7XLTBA01:RQ7XLTBA01_1", "k2x9c0v1s1t0r", MariaHash, "RQ7XLTBA01"), (form.EventId, form.AnonymousId, form.EmailHash, form.ChatId));

        var message = events[2];
        Assert.Equal(("livechat:RQ7XLTBA01:RQ7XLTBA01_2", "visitor", "k2x9c0v1s1t0r"), (message.EventId, message.MessageAuthor, message.AnonymousId));
        Assert.Null(message.MessageText); // the site keeps chat metadata only
        // Neither the card nor the customer's address is anywhere in what goes to Kafka.
        Assert.DoesNotContain(events, e => HasAFixtureCard(EncodedText(e))
            || EncodedText(e).Contains("maria.keller", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void A_site_that_keeps_chat_text_gets_it_card_masked_and_email_masked_when_it_asks()
    {
        var kept = Events(Bytes("livechat/incoming_chat.json"), Site(storeChatText: true)).Single(e => e.Type == EventTypes.ChatMessage);
        Assert.Equal("Hi! Can I pay for the espresso machine with my card **** **** **** 1111 and get it by Friday?", kept.MessageText);

        var agent = Assert.Single(Events(Bytes("livechat/incoming_event_message.json"), Site(storeChatText: true, maskEmails: true)));
        Assert.Equal("Yes! Write to me at [email] if the card ****-****-****-4444 fails.", agent.MessageText);
    }

    [Fact]
    public void An_agents_message_names_the_agent_and_the_chat_but_no_visitor()
    {
        var message = Assert.Single(Events(Bytes("livechat/incoming_event_message.json")));

        Assert.Equal((EventTypes.ChatMessage, "RQ7XLTBA01", "agent", "anna@shop.example"), (message.Type, message.ChatId, message.MessageAuthor, message.AgentId));
        Assert.Null(message.AnonymousId);
        Assert.Null(message.MessageText);
        Assert.Equal(new DateTimeOffset(2026, 10, 5, 9, 31, 10, TimeSpan.Zero), message.Timestamp);
    }

    [Fact]
    public void A_customers_message_is_keyed_by_the_livechat_customer()
    {
        var body = Json("livechat/incoming_event_message.json");
        body["payload"]!["event"]!["author_id"] = Customer;

        var message = Assert.Single(Events(ToBytes(body)));

        Assert.Equal(("visitor", "livechat:" + Customer, null), (message.MessageAuthor, message.AnonymousId, message.AgentId));
    }

    [Theory]
    [InlineData("system_message")]
    [InlineData("custom")]
    public void Events_that_are_not_people_talking_are_acknowledged_and_ignored(string type)
    {
        var body = Json("livechat/incoming_event_message.json");
        body["payload"]!["event"]!["type"] = type;

        var outcome = Receive(ToBytes(body));

        Assert.Equal((WebhookVerdict.Ignored, WebhookReasons.UnmappedEvent), (outcome.Verdict, outcome.Reason));
    }

    [Fact]
    public void Chat_deactivated_ends_the_chat_and_says_who_closed_it()
    {
        var ended = Assert.Single(Events(Bytes("livechat/chat_deactivated.json")));
        Assert.Equal((EventTypes.ChatEnded, "livechat:RQ7XLTBA01:chat_ended", "RQ7XLTBA01", "anna@shop.example"), (ended.Type, ended.EventId, ended.ChatId, ended.AgentId));
        Assert.Equal("""{"livechat_chat_id":"RQ7XLTB9C2","closed_by":"agent"}""", ended.Properties?.GetRawText());
        Assert.Equal(ReceivedAt, ended.Timestamp);

        var byRouter = Json("livechat/chat_deactivated.json");
        byRouter["payload"]!.AsObject().Remove("user_id");
        Assert.Equal("""{"livechat_chat_id":"RQ7XLTB9C2","closed_by":"router"}""", Assert.Single(Events(ToBytes(byRouter))).Properties?.GetRawText());
    }

    [Fact]
    public void Incoming_customer_v35_identifies_the_visitor_with_the_email_hash_and_links_the_livechat_customer()
    {
        var identify = Assert.Single(Events(Bytes("livechat/incoming_customer_v3.5.json")));

        Assert.Equal((EventTypes.Identify, "k2x9c0v1s1t0r", MariaHash), (identify.Type, identify.AnonymousId, identify.EmailHash));
        Assert.Equal($$"""{"livechat_customer_id":"{{Customer}}","linked_anonymous_id":"livechat:{{Customer}}"}""", identify.Properties?.GetRawText());
    }

    [Fact]
    public void Session_fields_updated_links_the_visitor_to_the_customer_and_its_active_chat()
    {
        var identify = Assert.Single(Events(Bytes("livechat/customer_session_fields_updated.json")));

        Assert.Equal((EventTypes.Identify, "k2x9c0v1s1t0r", "RQ7XLTBA01"), (identify.Type, identify.AnonymousId, identify.ChatId));
        Assert.Equal($$"""{"livechat_customer_id":"{{Customer}}","linked_anonymous_id":"livechat:{{Customer}}","livechat_chat_id":"RQ7XLTB9C2"}""",
            identify.Properties?.GetRawText());

        var withoutGlue = Json("livechat/customer_session_fields_updated.json");
        withoutGlue["payload"]!["session_fields"] = new JsonArray(new JsonObject { ["plan"] = "pro" });
        Assert.Equal(WebhookReasons.NothingToLink, Receive(ToBytes(withoutGlue)).Reason);
    }

    [Fact]
    public void Without_the_glue_a_chat_belongs_to_the_livechat_customer()
    {
        var body = Json("livechat/incoming_chat.json");
        var customer = body["payload"]!["chat"]!["users"]![0]!.AsObject();
        customer.Remove("session_fields");

        var started = Events(ToBytes(body))[0];

        Assert.Equal("livechat:" + Customer, started.AnonymousId);
    }

    [Fact]
    public void The_v32_envelope_with_a_license_id_and_unknown_actions_are_accepted_and_unmapped_ones_ignored()
    {
        var body = Json("livechat/chat_deactivated.json");
        body.Remove("organization_id");
        body["license_id"] = 104130623;
        Assert.Equal(WebhookVerdict.Events, Receive(ToBytes(body)).Verdict);

        body["action"] = "chat_access_updated";
        var ignored = Receive(ToBytes(body));
        Assert.Equal((WebhookVerdict.Ignored, WebhookReasons.UnmappedTopic), (ignored.Verdict, ignored.Reason));
    }

    [Theory]
    [InlineData(null, WebhookReasons.MissingSecret)]
    [InlineData("", WebhookReasons.MissingSecret)]
    [InlineData("lc-secret-0123456789abcdeF", WebhookReasons.InvalidSecret)]
    [InlineData("lc-secret-0123456789abcdef ", WebhookReasons.InvalidSecret)]
    [InlineData("lc-secret", WebhookReasons.InvalidSecret)]
    public void A_missing_or_wrong_secret_is_unauthorized_and_maps_nothing(string? secret, string reason)
    {
        var body = Json("livechat/incoming_chat.json");
        if (secret is null)
        {
            body.Remove("secret_key");
        }
        else
        {
            body["secret_key"] = secret;
        }

        var outcome = Receive(ToBytes(body));

        Assert.Equal((WebhookVerdict.Unauthorized, reason), (outcome.Verdict, outcome.Reason));
        Assert.Empty(outcome.Events);
    }

    [Fact]
    public void A_secret_of_another_type_is_missing()
    {
        var body = Json("livechat/incoming_chat.json");
        body["secret_key"] = 12345;

        Assert.Equal(WebhookReasons.MissingSecret, Receive(ToBytes(body)).Reason);
    }

    [Theory]
    [InlineData("{\"secret_key\":\"lc-secret-0123456789abcdef\",\"action\":\"incoming_chat\",\"payload\":", RejectReasons.MalformedJson)]
    [InlineData("{\"secret_key\":\"lc-secret-0123456789abcdef\",\"action\":\"incoming_chat\"}", WebhookReasons.InvalidPayload)]
    [InlineData("{\"secret_key\":\"lc-secret-0123456789abcdef\",\"action\":\"incoming_chat\",\"payload\":{\"chat\":{\"users\":[]}}}", WebhookReasons.InvalidPayload)]
    [InlineData("{\"secret_key\":\"lc-secret-0123456789abcdef\",\"action\":\"incoming_event\",\"payload\":{\"chat_id\":\"c\",\"thread_id\":\"t\",\"event\":{\"type\":\"message\",\"text\":\"\\ud800\",\"id\":\"e\"}}}", RejectReasons.InvalidField)]
    public void Payloads_that_cannot_be_mapped_are_invalid(string body, string reason)
    {
        var outcome = Receive(Encoding.UTF8.GetBytes(body), Site(storeChatText: true));

        Assert.Equal(reason, outcome.Reason);
        Assert.Empty(outcome.Events);
    }

    [Theory]
    // Each body would fail the full parse (bad JSON, nesting beyond the limit, invalid UTF-8, not an object); with a
    // wrong secret first, the sender learns only that the secret is wrong.
    [InlineData("{\"secret_key\":\"wrong-secret-0000000000\",\"action\":\"incoming_chat\",\"payload\":", WebhookReasons.InvalidSecret)]
    [InlineData("{\"secret_key\":\"wrong-secret-0000000000\",\"payload\":DEEP}", WebhookReasons.InvalidSecret)]
    [InlineData("{\"secret_key\":\"wrong-secret-0000000000\",\"payload\":{\"text\":\"BAD\"}}", WebhookReasons.InvalidSecret)]
    [InlineData("{\"webhook_id\":\"1\",\"payload\":DEEP,\"secret_key\":\"lc-secret-0123456789abcdef\"}", WebhookReasons.MissingSecret)]
    [InlineData("[{\"secret_key\":\"lc-secret-0123456789abcdef\"}]", WebhookReasons.MissingSecret)]
    [InlineData("{\"secret_key\":\"LONG\",\"payload\":{}}", WebhookReasons.InvalidSecret)]
    [InlineData("{\"payload\":{\"secret_key\":\"lc-secret-0123456789abcdef\"}}", WebhookReasons.MissingSecret)]
    [InlineData("{\"secret_key\":\"lc-secret-0123456789abcdef\"", RejectReasons.MalformedJson)] // the right secret: parsed, and refused for it
    public void The_secret_is_checked_before_the_rest_of_the_body_is_parsed(string template, string reason)
    {
        var deep = new string('[', 500) + new string(']', 500);
        var body = Encoding.UTF8.GetBytes(template.Replace("DEEP", deep, StringComparison.Ordinal).Replace("LONG", new string('é', 100_000), StringComparison.Ordinal));
        var bad = body.AsSpan().IndexOf("BAD"u8);
        if (bad >= 0)
        {
            body[bad] = 0xC3; // a lead byte followed by ASCII: invalid UTF-8
        }

        var outcome = Receive(body);

        Assert.Equal(reason, outcome.Reason);
        Assert.Empty(outcome.Events);
    }

    [Fact]
    public void An_escaped_secret_is_compared_as_its_text()
    {
        var body = Json("livechat/chat_deactivated.json");
        var text = ToBytes(body);
        var escaped = Encoding.UTF8.GetString(text).Replace("\"lc-secret-", "\"lc\\u002dsecret-", StringComparison.Ordinal);
        Assert.Contains("\\u002d", escaped, StringComparison.Ordinal);

        Assert.Equal(WebhookVerdict.Events, Receive(Encoding.UTF8.GetBytes(escaped)).Verdict);
    }

    [Fact]
    public void The_published_jsonc_samples_are_refused_as_malformed_not_mapped_half()
    {
        // The docs' samples carry // comments and placeholders; real senders send strict JSON.
        const string sample = """
            {"webhook_id": "<webhook_id>", "secret_key": "lc-secret-0123456789abcdef", "action": "incoming_event",
             "payload": {"chat_id": "PJ0MRSHTDG", "thread_id": "K600PKZON8", "event": { // "Event" object
             }}}
            """;

        Assert.Equal(RejectReasons.MalformedJson, Receive(Encoding.UTF8.GetBytes(sample)).Reason);
    }

    [Fact]
    public void Ids_longer_than_the_api_allows_are_refused()
    {
        var body = Json("livechat/chat_deactivated.json");
        body["payload"]!["thread_id"] = new string('T', 300);

        Assert.Equal(RejectReasons.InvalidField, Receive(ToBytes(body)).Reason);
    }

    [Theory]
    [InlineData("anna@shop.example", "agent")]
    [InlineData("5f1e0c6a-2b7d-4c3e-9a8f-1d2e3f4a5b6c", "visitor")]
    [InlineData("5c9871d5372c824cbf22d860a707a578", "bot")]
    [InlineData("something-else", null)]
    public void Authors_are_told_apart_by_the_shape_of_their_livechat_id(string id, string? author) =>
        Assert.Equal(author, LiveChatWebhook.AuthorOf(id));

    private static string EncodedText(PipelineEvent e) => Encoding.UTF8.GetString(EventCodec.Encode(e));
}
