using System.Net;
using System.Text;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Insights.Ingest.Parsing;
using Insights.Ingest.Tests.Webhooks;
using Insights.Ingest.Webhooks;
using static Insights.Ingest.Tests.Webhooks.WebhookFixtures;

namespace Insights.Ingest.Tests.Integration;

/// <summary>
/// Who may say what, over real HTTP to a real ingest host and read back from the dev stack's Kafka: a public key cannot
/// send money or chats nor take another source's ids, secrets stay out of URLs, one source's flood does not refuse
/// another, and webhooks are bound to what they say.
/// </summary>
public sealed class TrustBoundaryTests(DevStackFixture stack)
{
    private const string ShopifyOrderId = "5912345678901";

    [Fact]
    public async Task A_public_key_cannot_send_orders_refunds_cancellations_or_chats_and_its_other_events_still_count()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);

        var mixed = await host.PostAsync("""
            [{"type":"pageview","messageId":"ok-1","anonymousId":"v","url":"https://shop.example/"},
             {"type":"order","orderId":"p7","total":999999999,"currency":"USD","anonymousId":"v"},
             {"type":"order_refunded","orderId":"p7","amount":5,"currency":"USD"},
             {"type":"order_cancelled","orderId":"real-order-1"},
             {"type":"chat_started","chatId":"c","anonymousId":"v"},
             {"type":"chat_message","chatId":"c","text":"hi","author":"visitor"}]
            """);
        var body = await Answer.AcceptedAsync(mixed, 1);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => (i, RejectReasons.NeedsServerKey)), Answer.Rejections(body));
        Assert.All(body.GetProperty("rejected").EnumerateArray(), r => Assert.Contains("server key", r.GetProperty("detail").GetString(), StringComparison.Ordinal));

        // Nothing but refused events: the request is refused with the first event's reason.
        var onlyOrder = await host.PostAsync("""{"type":"order","orderId":"p8","total":10,"currency":"USD"}""");
        await Answer.ProblemAsync(onlyOrder, 400, RejectReasons.NeedsServerKey);

        var message = Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1));
        Assert.Equal(("pub:ok-1", EventTypes.Pageview), (message.Event.EventId, message.Event.Type));
    }

    [Fact]
    public async Task No_client_message_id_replaces_what_a_webhook_or_another_key_wrote()
    {
        await using var host = WebhookHosts.Start(stack.KafkaBootstrap);

        await Answer.AcceptedAsync(await host.ShopifyAsync(Bytes("shopify/orders_create.json"), "orders/create"), 1);
        // A browser and a server each claim the webhook's id (and each other's namespace).
        await Answer.AcceptedAsync(await host.PostAsync($$"""{"type":"track","event":"x","anonymousId":"v","messageId":"shopify:order:{{ShopifyOrderId}}"}"""), 1);
        await Answer.AcceptedAsync(await host.PostAsync(
            $$"""{"type":"order_cancelled","orderId":"{{ShopifyOrderId}}","messageId":"shopify:order:{{ShopifyOrderId}}"}""", key: IngestHost.ServerKey), 1);
        await Answer.AcceptedAsync(await host.PostAsync("""{"type":"track","event":"x","anonymousId":"v","messageId":"srv:k"}"""), 1);

        var ids = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 4).ToDictionary(m => m.Event.EventId, m => m.Event);
        Assert.Equal(
            [$"pub:shopify:order:{ShopifyOrderId}", "pub:srv:k", $"shopify:order:{ShopifyOrderId}", $"srv:shopify:order:{ShopifyOrderId}"],
            ids.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((EventTypes.Order, 149.90m, "shopify"), (ids[$"shopify:order:{ShopifyOrderId}"].Type, ids[$"shopify:order:{ShopifyOrderId}"].Amount,
            ids[$"shopify:order:{ShopifyOrderId}"].Source));
    }

    [Fact]
    public async Task A_server_or_read_key_in_the_url_is_refused_and_nothing_is_produced()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);
        const string pageview = """{"type":"page","anonymousId":"v","messageId":"m","url":"https://shop.example/"}""";

        var server = await host.PostAsync(pageview, key: null, path: $"/v1/events?key={IngestHost.ServerKey}");
        var problem = await Answer.ProblemAsync(server, 401, RejectReasons.SecretKeyInUrl);
        Assert.Contains("X-Insights-Key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("rotate", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // Also beside a key in the header: the URL has leaked it either way.
        await Answer.ProblemAsync(await host.PostAsync(pageview, key: IngestHost.WriteKey, path: $"/v1/events?key={IngestHost.ServerKey}"), 401, RejectReasons.SecretKeyInUrl);
        await Answer.ProblemAsync(await host.PostAsync(pageview, key: null, path: $"/v1/events?key={IngestHost.ReadKey}"), 401, RejectReasons.SecretKeyInUrl);

        // The public write key may ride in the URL (sendBeacon cannot set headers): the one event on Kafka.
        await Answer.AcceptedAsync(await host.PostAsync(pageview, key: null, contentType: "text/plain", path: $"/v1/events?key={IngestHost.WriteKey}"), 1);
        Assert.Equal("pub:m", Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1)).Event.EventId);
    }

    [Fact]
    public async Task A_public_key_flood_answered_429_does_not_refuse_the_shops_server_calls_or_webhooks()
    {
        await using var host = WebhookHosts.Start(stack.KafkaBootstrap, new Dictionary<string, string?> { ["Sites:0:RateLimitPerSecond"] = "2" });
        var batch = "[" + string.Join(',', Enumerable.Range(0, 10).Select(i => $$"""{"type":"track","event":"x","anonymousId":"v","messageId":"f{{i}}"}""")) + "]";

        // A full bucket admits one batch beyond its size; the public debt then takes seconds to pay.
        await Answer.AcceptedAsync(await host.PostAsync(batch), 10);
        await Answer.ProblemAsync(await host.PostAsync(batch), 429, RejectReasons.RateLimited);

        await Answer.AcceptedAsync(await host.PostAsync(batch, key: IngestHost.ServerKey), 10);
        await Answer.AcceptedAsync(await host.ShopifyAsync(Bytes("shopify/orders_create.json"), "orders/create"), 1);
        await Answer.AcceptedAsync(await host.LiveChatAsync(Bytes("livechat/chat_deactivated.json")), 1);
        await Answer.ProblemAsync(await host.PostAsync(batch), 429, RejectReasons.RateLimited);

        var messages = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 22);
        Assert.Equal(22, messages.Count);
        Assert.Equal(10, messages.Count(m => m.Event.EventId.StartsWith("srv:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Webhooks_are_bound_to_their_topic_shop_store_and_delivery_id_and_refusals_produce_nothing()
    {
        await using var host = WebhookHosts.Start(stack.KafkaBootstrap, new Dictionary<string, string?>
        {
            ["Sites:0:ShopifyShopDomain"] = WebhookHosts.ShopDomain,
            ["Sites:0:WooCommerceStoreUrl"] = "https://coffee.example",
        });
        var order = Bytes("shopify/orders_create.json");

        // A captured, signed orders/create re-sent as orders/cancelled does not cancel the order.
        var replayed = await Answer.ProblemAsync(await host.ShopifyAsync(order, "orders/cancelled"), 400, WebhookReasons.TopicMismatch);
        Assert.Contains("cancelled_at", replayed.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Answer.ProblemAsync(await host.ShopifyAsync(Bytes("shopify/orders_create.json"), "refunds/create"), 400, WebhookReasons.TopicMismatch);
        // Signed with the app's secret, but for another shop that installed the same app.
        await Answer.ProblemAsync(await host.ShopifyAsync(order, "orders/create", shopDomain: "other-shop.myshopify.com"), 403, WebhookReasons.WrongShop);
        // WooCommerce: an order body re-sent as its deletion.
        await Answer.ProblemAsync(await host.WooCommerceAsync(Bytes("woocommerce/order_created.json"), "order.deleted"), 400, WebhookReasons.TopicMismatch);

        // The real delivery, signed with the vector OpenSSL computed, and its re-delivery (same X-Shopify-Webhook-Id).
        await Answer.AcceptedAsync(await host.ShopifyAsync(order, "orders/create", signature: WebhookBindingTests.OrdersCreateShopifyBase64, webhookId: "b1a7c0de-0001"), 1);
        var again = await host.ShopifyAsync(order, "orders/create", webhookId: "b1a7c0de-0001");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(WebhookReasons.DuplicateDelivery, (await Answer.JsonAsync(again)).GetProperty("ignored").GetString());
        // Another delivery of the same order (orders/paid) is a new delivery id and the same event id: storage keeps one.
        await Answer.AcceptedAsync(await host.ShopifyAsync(order, "orders/paid"), 1);

        var wooOrder = Bytes("woocommerce/order_created.json");
        await Answer.AcceptedAsync(await host.WooCommerceAsync(wooOrder, "order.created", signature: WebhookBindingTests.OrderCreatedWooCommerceBase64, deliveryId: "77"), 1);
        var wooAgain = await host.WooCommerceAsync(wooOrder, "order.created", deliveryId: "77");
        Assert.Equal(HttpStatusCode.OK, wooAgain.StatusCode);
        Assert.Equal(WebhookReasons.DuplicateDelivery, (await Answer.JsonAsync(wooAgain)).GetProperty("ignored").GetString());

        var messages = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 3);
        Assert.Equal([$"shopify:order:{ShopifyOrderId}", $"shopify:order:{ShopifyOrderId}", "woocommerce:order:4711"], messages.Select(m => m.Event.EventId).Order());
        Assert.DoesNotContain(messages, m => m.Event.Type == EventTypes.OrderCancelled);
    }

    [Fact]
    public async Task A_wrong_shop_store_is_refused_over_http_while_an_unconfigured_site_accepts_any()
    {
        await using var host = WebhookHosts.Start(stack.KafkaBootstrap, new Dictionary<string, string?> { ["Sites:0:WooCommerceStoreUrl"] = "https://other-store.example/" });

        await Answer.ProblemAsync(await host.WooCommerceAsync(Bytes("woocommerce/order_created.json"), "order.created"), 403, WebhookReasons.WrongStore);
        // No ShopifyShopDomain on this site: the domain is not checked.
        await Answer.AcceptedAsync(await host.ShopifyAsync(Bytes("shopify/orders_create.json"), "orders/create", shopDomain: "any-shop.myshopify.com"), 1);

        Assert.Equal("shopify", Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1)).Event.Source);
    }

    [Fact]
    public async Task A_livechat_delivery_with_a_wrong_secret_is_refused_before_its_body_is_parsed()
    {
        await using var host = WebhookHosts.Start(stack.KafkaBootstrap);
        var deep = new string('[', 5_000) + new string(']', 5_000);

        // Either body would be a 400 from the full parse (too deep; invalid UTF-8): the wrong secret is all that is read.
        await Answer.ProblemAsync(await host.LiveChatAsync(Encoding.UTF8.GetBytes($$"""{"secret_key":"lc-secret-guess-0000000000","payload":{{deep}}}""")),
            401, WebhookReasons.InvalidSecret);
        byte[] invalidUtf8 = [.. "{\"secret_key\":\"lc-secret-guess-0000000000\",\"payload\":\""u8, 0xC3, (byte)'(', (byte)'"', (byte)'}'];
        await Answer.ProblemAsync(await host.LiveChatAsync(invalidUtf8), 401, WebhookReasons.InvalidSecret);
        // The right secret, the same depth: now the body is parsed, and refused for it.
        await Answer.ProblemAsync(await host.LiveChatAsync(Encoding.UTF8.GetBytes($$"""{"secret_key":"{{LiveChatSecret}}","payload":{{deep}}}""")),
            400, RejectReasons.MalformedJson);

        await Answer.AcceptedAsync(await host.LiveChatAsync(Bytes("livechat/chat_deactivated.json")), 1);
        Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1));
    }
}
