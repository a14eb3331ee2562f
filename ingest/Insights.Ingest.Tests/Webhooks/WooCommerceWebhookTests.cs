using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Insights.Contracts;
using Insights.Ingest.Parsing;
using Insights.Ingest.Webhooks;
using static Insights.Ingest.Tests.Webhooks.WebhookFixtures;

namespace Insights.Ingest.Tests.Webhooks;

/// <summary>WooCommerce order webhooks: the HMAC over the raw body, the unsigned ping, and what each status becomes.</summary>
public sealed class WooCommerceWebhookTests
{
    private static WebhookOutcome Receive(byte[] body, string? topic, string? signature = "sign") =>
        WooCommerceWebhook.Receive(body, new WooCommerceDelivery(signature == "sign" ? Sign(body, WooCommerceSecret) : signature, topic), WooCommerceSecret, Context());

    private static List<PipelineEvent> Events(byte[] body, string topic)
    {
        var outcome = Receive(body, topic);
        Assert.True(outcome.Verdict == WebhookVerdict.Events, outcome.ToString());
        return outcome.Events.Select(e => EventCodec.Decode(EventCodec.Encode(e)).Event!).ToList();
    }

    /// <summary>A changed order as WordPress would encode it (compact, "\/"), for the signature to be over those bytes.</summary>
    private static byte[] Changed(string fixture, Action<JsonObject> change)
    {
        var order = Json(fixture);
        change(order);
        return Encoding.UTF8.GetBytes(order.ToJsonString().Replace("/", "\\/", StringComparison.Ordinal));
    }

    [Fact]
    public void A_processing_order_is_an_order_event_with_the_visitor_from_the_order_meta()
    {
        var order = Assert.Single(Events(Bytes("woocommerce/order_created.json"), "order.created"));

        Assert.Equal(("woocommerce:order:4711", EventTypes.Order, "4711"), (order.EventId, order.Type, order.OrderId));
        Assert.Equal((89.50m, "EUR", "welcome10"), (order.Amount, order.Currency, order.Coupon));
        Assert.Equal(("k2x9c0v1s1t0r", "12"), (order.AnonymousId, order.UserId));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("maria.keller@example.com"u8)), order.EmailHash);
        Assert.Equal("198.51.100.23", order.Ip);
        // date_created_gmt has no offset: it is UTC.
        Assert.Equal(new DateTimeOffset(2026, 10, 5, 11, 5, 12, TimeSpan.Zero), order.Timestamp);
        Assert.Equal("woocommerce", order.Source);
        Assert.Equal("Coffee beans 1 kg \u2013 Dark", order.Properties!.Value.GetProperty("items")[1].GetProperty("name").GetString());
    }

    [Fact]
    public void An_update_repeats_the_same_order_and_adds_each_refund_as_its_own_event()
    {
        var created = Assert.Single(Events(Bytes("woocommerce/order_created.json"), "order.created"));
        var updated = Events(Bytes("woocommerce/order_updated_refunded.json"), "order.updated");

        Assert.Equal([EventTypes.Order, EventTypes.OrderRefunded], updated.Select(e => e.Type));
        // The order sent again is the same event (id and time), so storage keeps it once.
        Assert.Equal((created.EventId, created.Timestamp, created.Amount), (updated[0].EventId, updated[0].Timestamp, updated[0].Amount));

        var refund = updated[1];
        Assert.Equal(("woocommerce:refund:4720", "4711", 19.90m, "EUR"), (refund.EventId, refund.OrderId, refund.Amount, refund.Currency));
        Assert.Equal(created.Timestamp, refund.Timestamp);
        Assert.Equal("Beans arrived damaged", refund.Properties!.Value.GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("cancelled")]
    [InlineData("failed")]
    public void A_cancelled_or_failed_order_is_order_cancelled(string status)
    {
        var cancelled = Assert.Single(Events(Changed("woocommerce/order_created.json", order => order["status"] = status), "order.updated"));

        Assert.Equal(("woocommerce:order_cancelled:4711", EventTypes.OrderCancelled, "4711"), (cancelled.EventId, cancelled.Type, cancelled.OrderId));
    }

    [Fact]
    public void A_deleted_order_is_cancelled_from_its_id_alone()
    {
        var cancelled = Assert.Single(Events("{\"id\":4711}"u8.ToArray(), "order.deleted"));

        Assert.Equal((EventTypes.OrderCancelled, "4711", null), (cancelled.Type, cancelled.OrderId, cancelled.Amount));
        Assert.Equal(ReceivedAt, cancelled.Timestamp);
    }

    [Theory]
    [InlineData("pending")]
    [InlineData("checkout-draft")]
    public void An_order_not_yet_placed_is_acknowledged_and_ignored(string status)
    {
        var outcome = Receive(Changed("woocommerce/order_created.json", order => order["status"] = status), "order.created");

        Assert.Equal((WebhookVerdict.Ignored, WebhookReasons.OrderNotPlaced), (outcome.Verdict, outcome.Reason));
    }

    [Fact]
    public void The_unsigned_creation_ping_is_answered_and_ingests_nothing()
    {
        var outcome = Receive("webhook_id=17"u8.ToArray(), null, signature: null);

        Assert.Equal((WebhookVerdict.Ignored, WebhookReasons.Ping), (outcome.Verdict, outcome.Reason));
        Assert.Empty(outcome.Events);
    }

    [Theory]
    [InlineData("webhook_id=")]
    [InlineData("webhook_id=17&total=1000")]
    [InlineData("{\"id\":4711,\"status\":\"processing\"}")]
    public void Anything_else_without_a_signature_is_unauthorized(string body)
    {
        var outcome = Receive(Encoding.UTF8.GetBytes(body), "order.created", signature: null);

        Assert.Equal((WebhookVerdict.Unauthorized, WebhookReasons.MissingSignature), (outcome.Verdict, outcome.Reason));
    }

    [Fact]
    public void A_wrong_signature_or_an_altered_body_is_unauthorized()
    {
        var body = Bytes("woocommerce/order_created.json");
        var signature = Sign(body, WooCommerceSecret);

        Assert.Equal(WebhookReasons.InvalidSignature, Receive(body, "order.created", Sign(body, "another-secret-0123456789")).Reason);
        Assert.Equal(WebhookReasons.InvalidSignature, Receive(body, "order.created", "garbage").Reason);

        var altered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\"total\":\"89.50\"", "\"total\":\"8950.00\"", StringComparison.Ordinal));
        Assert.NotEqual(body, altered);
        Assert.Equal(WebhookReasons.InvalidSignature, Receive(altered, "order.created", signature).Reason);

        // The same JSON written without WordPress's "\/" escapes is other bytes: the signature is over the bytes sent.
        var unescaped = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\\/", "/", StringComparison.Ordinal));
        Assert.Equal(WebhookReasons.InvalidSignature, Receive(unescaped, "order.created", signature).Reason);
    }

    [Fact]
    public void Other_topics_are_acknowledged_and_ignored_and_a_missing_topic_is_invalid()
    {
        Assert.Equal(WebhookReasons.UnmappedTopic, Receive(Bytes("woocommerce/order_created.json"), "product.updated").Reason);
        Assert.Equal(WebhookReasons.MissingTopic, Receive(Bytes("woocommerce/order_created.json"), null).Reason);
    }

    [Fact]
    public void Invalid_money_in_a_signed_order_is_refused_whole()
    {
        Assert.Equal(TypeRejectReasons.InvalidCurrency,
            Receive(Changed("woocommerce/order_created.json", order => order["currency"] = "Euro"), "order.created").Reason);
        Assert.Equal(TypeRejectReasons.InvalidAmount,
            Receive(Changed("woocommerce/order_created.json", order => order["total"] = "lots"), "order.created").Reason);
        Assert.Equal(TypeRejectReasons.InvalidAmount,
            Receive(Changed("woocommerce/order_updated_refunded.json", order => order["refunds"]![0]!["total"] = "0.00"), "order.updated").Reason);
    }

    [Theory]
    [InlineData("webhook_id=1", true)]
    [InlineData("webhook_id=123456\n", true)]
    [InlineData("webhook_id=abc", false)]
    [InlineData("id=1", false)]
    public void The_ping_is_recognised_exactly(string body, bool ping) => Assert.Equal(ping, WooCommerceWebhook.IsPing(Encoding.UTF8.GetBytes(body)));
}
