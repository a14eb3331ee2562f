using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Insights.Ingest.Parsing;
using Insights.Ingest.Tests.Webhooks;
using Insights.Ingest.Webhooks;
using static Insights.Ingest.Tests.Webhooks.WebhookFixtures;

namespace Insights.Ingest.Tests.Integration;

/// <summary>
/// Each platform's webhooks through the real host onto Kafka: what is refused puts nothing there, what is accepted is
/// there exactly, keyed by site and visitor, with the event type header a processor routes on.
/// </summary>
public sealed class WebhooksReachKafkaTests(DevStackFixture stack)
{
    [Fact]
    public async Task LiveChat_webhooks_become_chat_events_and_a_wrong_secret_puts_nothing_on_kafka()
    {
        await using var host = WebhookHosts.Start(stack.KafkaBootstrap);

        var wrong = Json("livechat/incoming_chat.json");
        wrong["secret_key"] = "lc-secret-guess-0000000000";
        await Answer.ProblemAsync(await host.LiveChatAsync(ToBytes(wrong)), 401, WebhookReasons.InvalidSecret);
        var missing = Json("livechat/incoming_chat.json");
        missing.Remove("secret_key");
        await Answer.ProblemAsync(await host.LiveChatAsync(ToBytes(missing)), 401, WebhookReasons.MissingSecret);
        await Answer.ProblemAsync(await host.LiveChatAsync("{\"secret_key\":"u8.ToArray()), 401, WebhookReasons.MissingSecret);

        var chat = await Answer.JsonAsync(await Accepted(host.LiveChatAsync(Bytes("livechat/incoming_chat.json"))));
        Assert.Equal(3, chat.GetProperty("accepted").GetInt32());
        await Accepted(host.LiveChatAsync(Bytes("livechat/incoming_event_message.json")));
        await Accepted(host.LiveChatAsync(Bytes("livechat/chat_deactivated.json")));
        await Accepted(host.LiveChatAsync(Bytes("livechat/customer_session_fields_updated.json")));
        var customer = Json("livechat/incoming_customer_v3.5.json");
        customer["payload"]!["customer"]!.AsObject().Remove("session_fields");
        await Accepted(host.LiveChatAsync(ToBytes(customer)));

        var messages = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 7);
        Assert.Equal(7, messages.Count);
        var byId = messages.ToDictionary(m => m.Event.EventId);
        var started = byId["livechat:RQ7XLTBA01:chat_started"];
        Assert.Equal(("demo:k2x9c0v1s1t0r", "chat_started", 1), (started.Key, started.Event.Type, started.Event.V));
        Assert.Empty(started.Headers);
        Assert.Equal(("RQ7XLTBA01", "anna@shop.example", "website", "livechat"), (started.Event.ChatId, started.Event.AgentId, started.Event.Channel, started.Event.Source));
        Assert.Equal("chat_ended", byId["livechat:RQ7XLTBA01:chat_ended"].Event.Type);
        Assert.Equal("identify", byId["livechat:customer:5f1e0c6a-2b7d-4c3e-9a8f-1d2e3f4a5b6c:k2x9c0v1s1t0r"].Event.Type);
        // A v3.5 customer without the glue: identified by the e-mail hash, keyed by the LiveChat customer.
        var identified = Assert.Single(messages, m => m.Event.Type == EventTypes.Identify && m.Event.AnonymousId == "livechat:5f1e0c6a-2b7d-4c3e-9a8f-1d2e3f4a5b6c");
        Assert.Equal(64, identified.Event.EmailHash?.Length);
        // The site keeps chat metadata only: no message text, so no card number and no address, reaches Kafka.
        Assert.All(messages, m => Assert.Null(m.Event.MessageText));
        Assert.DoesNotContain(messages, m => HasAFixtureCard(m.Value));
        Assert.DoesNotContain(messages, m => m.Value.Contains("maria.keller", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Shopify_orders_and_refunds_reach_kafka_and_unsigned_or_altered_ones_do_not()
    {
        await using var host = WebhookHosts.Start(stack.KafkaBootstrap);
        var order = Bytes("shopify/orders_create.json");

        await Answer.ProblemAsync(await host.ShopifyAsync(order, "orders/create", signature: null), 401, WebhookReasons.MissingSignature);
        await Answer.ProblemAsync(await host.ShopifyAsync(order, "orders/create", signature: Sign(order, "shpss_someone_elses_secret_000000")), 401, WebhookReasons.InvalidSignature);
        var altered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(order).Replace("149.90", "14990.00", StringComparison.Ordinal));
        await Answer.ProblemAsync(await host.ShopifyAsync(altered, "orders/create", signature: Sign(order, ShopifySecret)), 401, WebhookReasons.InvalidSignature);

        await Accepted(host.ShopifyAsync(order, "orders/create"));
        await Accepted(host.ShopifyAsync(order, "orders/paid"));
        await Accepted(host.ShopifyAsync(Bytes("shopify/refunds_create.json"), "refunds/create"));
        await Accepted(host.ShopifyAsync(Bytes("shopify/orders_cancelled.json"), "orders/cancelled"));
        var ignored = await host.ShopifyAsync(order, "orders/updated");
        Assert.Equal(HttpStatusCode.OK, ignored.StatusCode);
        Assert.Equal(WebhookReasons.UnmappedTopic, (await Answer.JsonAsync(ignored)).GetProperty("ignored").GetString());

        var messages = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 4);
        Assert.Equal(4, messages.Count);
        // orders/create and orders/paid are one order: the same event twice, which storage keeps once.
        var orders = messages.Where(m => m.Event.Type == EventTypes.Order).ToList();
        Assert.Equal(2, orders.Count);
        Assert.All(orders, m => Assert.Equal(("shopify:order:5912345678901", "demo:k2x9c0v1s1t0r", 149.90m, "EUR"),
            (m.Event.EventId, m.Key, m.Event.Amount, m.Event.Currency)));
        var refund = Assert.Single(messages, m => m.Event.Type == EventTypes.OrderRefunded);
        Assert.Equal(("order_refunded", "5912345678901", 17.56m), (refund.Event.Type, refund.Event.OrderId, refund.Event.Amount));
        Assert.Single(messages, m => m.Event.Type == EventTypes.OrderCancelled);
        Assert.DoesNotContain(messages, m => m.Value.Contains("14990", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WooCommerce_orders_reach_kafka_its_ping_is_answered_and_unsigned_orders_are_refused()
    {
        await using var host = WebhookHosts.Start(stack.KafkaBootstrap);
        var order = Bytes("woocommerce/order_created.json");

        // Saving a webhook in WooCommerce first posts this, unsigned, and needs a 200.
        var ping = await host.WooCommerceAsync("webhook_id=17"u8.ToArray(), topic: null, signature: null, contentType: "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal(0, (await Answer.JsonAsync(ping)).GetProperty("accepted").GetInt32());

        await Answer.ProblemAsync(await host.WooCommerceAsync(order, "order.created", signature: null), 401, WebhookReasons.MissingSignature);
        await Answer.ProblemAsync(await host.WooCommerceAsync(order, "order.created", signature: "bm90IGEgc2lnbmF0dXJl"), 401, WebhookReasons.InvalidSignature);
        var altered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(order).Replace("\"total\":\"89.50\"", "\"total\":\"0.50\"", StringComparison.Ordinal));
        await Answer.ProblemAsync(await host.WooCommerceAsync(altered, "order.created", signature: Sign(order, WooCommerceSecret)), 401, WebhookReasons.InvalidSignature);

        await Accepted(host.WooCommerceAsync(order, "order.created"));
        await Accepted(host.WooCommerceAsync(Bytes("woocommerce/order_updated_refunded.json"), "order.updated"));

        var messages = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 3);
        Assert.Equal(3, messages.Count);
        Assert.Equal(2, messages.Count(m => m.Event.EventId == "woocommerce:order:4711" && m.Event.Amount == 89.50m && m.Key == "demo:k2x9c0v1s1t0r"));
        var refund = Assert.Single(messages, m => m.Event.Type == EventTypes.OrderRefunded);
        Assert.Equal(("woocommerce:refund:4720", 19.90m, "woocommerce"), (refund.Event.EventId, refund.Event.Amount, refund.Event.Source));
    }

    [Fact]
    public async Task Api_chat_text_reaches_kafka_only_for_a_site_that_keeps_it_and_then_masked()
    {
        const string events = """
            [{"type":"chat_started","messageId":"cs-1","anonymousId":"k2x9","chatId":"c-1","channel":"whatsapp"},
             {"type":"chat_message","messageId":"cm-1","chatId":"c-1","author":"visitor","text":"card 4111 1111 1111 1111, mail maria@example.com"},
             {"type":"order","messageId":"o-1","orderId":"1042","total":149.9,"currency":"EUR","anonymousId":"k2x9","email":"maria@example.com"}]
            """;

        await using (var metadataOnly = IngestHost.Start(stack.KafkaBootstrap))
        {
            await Answer.AcceptedAsync(await metadataOnly.PostAsync(events, key: IngestHost.ServerKey), 3);
            var messages = KafkaReader.ReadToEnd(metadataOnly.KafkaBootstrap, metadataOnly.Topic, 3).ToDictionary(m => m.Event.EventId);
            Assert.Equal(("chat_message", "visitor", null), (messages["srv:cm-1"].Event.Type, messages["srv:cm-1"].Event.MessageAuthor, messages["srv:cm-1"].Event.MessageText));
            Assert.Equal(("whatsapp", "api"), (messages["srv:cs-1"].Event.Channel, messages["srv:cs-1"].Event.Source));
            Assert.Equal((149.9m, "demo:k2x9"), (messages["srv:o-1"].Event.Amount, messages["srv:o-1"].Key));
            Assert.DoesNotContain(messages.Values, m => HasAFixtureCard(m.Value) || m.Value.Contains('@', StringComparison.Ordinal));
        }

        await using var keepsText = IngestHost.Start(stack.KafkaBootstrap, new Dictionary<string, string?>
        {
            ["Sites:0:StoreChatText"] = "true",
            ["Sites:0:MaskEmailsInChat"] = "true",
        });
        await Answer.AcceptedAsync(await keepsText.PostAsync(events, key: IngestHost.ServerKey), 3);
        var kept = KafkaReader.ReadToEnd(keepsText.KafkaBootstrap, keepsText.Topic, 3).Single(m => m.Event.EventId == "srv:cm-1");
        Assert.Equal("card **** **** **** 1111, mail [email]", kept.Event.MessageText);
    }

    private static async Task<HttpResponseMessage> Accepted(Task<HttpResponseMessage> sending)
    {
        var response = await sending;
        Assert.True(response.StatusCode == HttpStatusCode.Accepted,
            $"Expected 202, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        return response;
    }
}
