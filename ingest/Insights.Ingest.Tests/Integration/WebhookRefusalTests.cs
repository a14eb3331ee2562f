using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Insights.DevStack.Testing;
using Insights.Ingest.Parsing;
using Insights.Ingest.Webhooks;
using Insights.Ingest.Tests.Webhooks;
using static Insights.Ingest.Tests.Webhooks.WebhookFixtures;

namespace Insights.Ingest.Tests.Integration;

/// <summary>Refusals at the webhook edge, each with its status and reason; none of them puts anything on Kafka.</summary>
public sealed class WebhookRefusalTests(DevStackFixture stack)
{
    [Fact]
    public async Task Unknown_sites_integrations_that_are_off_and_hostile_bodies_are_refused_and_nothing_reaches_kafka()
    {
        await using var host = WebhookHosts.Start(stack.KafkaBootstrap);
        var order = Bytes("shopify/orders_create.json");

        await Answer.ProblemAsync(await host.ShopifyAsync(order, "orders/create", site: "nosuchsite"), 404, WebhookReasons.UnknownSite);
        // The load-test site has no webhook secrets: its integrations are off, whatever a request carries.
        await Answer.ProblemAsync(await host.ShopifyAsync(order, "orders/create", site: "loadtest"), 404, WebhookReasons.IntegrationOff);
        await Answer.ProblemAsync(await host.LiveChatAsync(Bytes("livechat/incoming_chat.json"), site: "loadtest"), 404, WebhookReasons.IntegrationOff);

        // Too large: refused from Content-Length, and while reading a chunked body that never says its length.
        var huge = new byte[2 * 1024 * 1024];
        Array.Fill(huge, (byte)' ');
        await Answer.ProblemAsync(await host.ShopifyAsync(huge, "orders/create"), 413, RejectReasons.BodyTooLarge);
        var chunked = await host.PostAsync(huge, key: null, path: "/v1/webhooks/livechat/demo", configure: request =>
        {
            request.Content = new StreamContent(new MemoryStream(huge));
            request.Headers.TransferEncodingChunked = true;
        });
        await Answer.ProblemAsync(chunked, 413, RejectReasons.BodyTooLarge);

        var gzip = await host.PostAsync(order, key: null, path: "/v1/webhooks/shopify/demo", configure: request =>
        {
            request.Content!.Headers.ContentEncoding.Add("gzip");
            request.Headers.Add("X-Shopify-Topic", "orders/create");
            request.Headers.Add("X-Shopify-Hmac-Sha256", Sign(order, ShopifySecret));
        });
        await Answer.ProblemAsync(gzip, 415, RejectReasons.UnsupportedMediaType);

        // Signed but hostile: nesting past the limit, invalid UTF-8, not an object.
        await Answer.ProblemAsync(await host.ShopifyAsync("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"u8.ToArray(),
            "orders/create"), 400, RejectReasons.MalformedJson);
        await Answer.ProblemAsync(await host.ShopifyAsync([(byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)'}'], "orders/create"), 400, RejectReasons.InvalidUtf8);
        await Answer.ProblemAsync(await host.WooCommerceAsync("42"u8.ToArray(), "order.created"), 400, WebhookReasons.InvalidPayload);
        // Garbage without the secret is unauthenticated (the secret is read first); with it, the body is parsed and refused.
        await Answer.ProblemAsync(await host.LiveChatAsync(new byte[] { 0xEF, 0xBB }), 401, WebhookReasons.MissingSecret);
        await Answer.ProblemAsync(await host.LiveChatAsync([]), 401, WebhookReasons.MissingSecret);
        var signedIn = "{\"secret_key\":\"" + WebhookFixtures.LiveChatSecret + "\",\"payload\":";
        byte[] withSecret = [.. Encoding.UTF8.GetBytes(signedIn), (byte)'"', 0xC3, (byte)'(', (byte)'"', (byte)'}'];
        await Answer.ProblemAsync(await host.LiveChatAsync(withSecret), 400, RejectReasons.InvalidUtf8);
        await Answer.ProblemAsync(await host.LiveChatAsync(Encoding.UTF8.GetBytes(signedIn)),
            400, RejectReasons.MalformedJson);

        // Then one valid delivery: it, and only it, is on Kafka.
        var accepted = await host.ShopifyAsync(Bytes("shopify/refunds_create.json"), "refunds/create");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var message = Assert.Single(KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1));
        Assert.Equal("shopify:refund:1012345678901", message.Event.EventId);
    }

    [Fact]
    public async Task When_kafka_does_not_acknowledge_a_webhook_is_answered_503_so_the_platform_retries()
    {
        // Nothing listens on this port: every delivery fails within the (short) delivery timeout.
        await using var host = WebhookHosts.Start("127.0.0.1:9", new Dictionary<string, string?> { ["Kafka:DeliveryTimeout"] = "00:00:02" });
        var order = Bytes("shopify/orders_create.json");

        var response = await host.ShopifyAsync(order, "orders/create");

        await Answer.ProblemAsync(response, 503, RejectReasons.KafkaUnavailable);
        Assert.Equal("5", Assert.Single(response.Headers.GetValues("Retry-After")));
    }

    [Fact]
    public async Task The_webhooks_are_in_the_openapi_document()
    {
        await using var host = WebhookHosts.Start(stack.KafkaBootstrap);

        var document = await Answer.JsonAsync(await host.Client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken));
        var paths = document.GetProperty("paths");

        Assert.True(paths.TryGetProperty("/v1/webhooks/livechat/{site}", out _));
        Assert.True(paths.TryGetProperty("/v1/webhooks/shopify/{site}", out _));
        Assert.True(paths.TryGetProperty("/v1/webhooks/woocommerce/{site}", out _));
    }
}
