using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Insights.Contracts;
using Insights.Ingest.Parsing;
using Insights.Ingest.Webhooks;
using static Insights.Ingest.Tests.Webhooks.WebhookFixtures;

namespace Insights.Ingest.Tests.Webhooks;

/// <summary>Shopify order webhooks: the HMAC over the raw body, and what each topic becomes.</summary>
public sealed class ShopifyWebhookTests
{
    private static readonly string MariaHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("maria.keller@example.com")));

    private static WebhookOutcome Receive(byte[] body, string topic, string? signature = "sign") =>
        ShopifyWebhook.Receive(body, new ShopifyDelivery(signature == "sign" ? Sign(body, ShopifySecret) : signature, topic), ShopifySecret, Context());

    private static PipelineEvent One(byte[] body, string topic)
    {
        var outcome = Receive(body, topic);
        Assert.True(outcome.Verdict == WebhookVerdict.Events, outcome.ToString());
        return EventCodec.Decode(EventCodec.Encode(Assert.Single(outcome.Events))).Event!;
    }

    [Theory]
    [InlineData("orders/create")]
    [InlineData("orders/paid")]
    public void A_new_or_paid_order_is_one_order_event_with_the_shops_money_and_the_glued_visitor(string topic)
    {
        var order = One(Bytes("shopify/orders_create.json"), topic);

        // Both topics describe the same order: same id and time, so storage keeps one.
        Assert.Equal(("shopify:order:5912345678901", EventTypes.Order, "5912345678901"), (order.EventId, order.Type, order.OrderId));
        Assert.Equal((149.90m, "EUR", "SPRING10"), (order.Amount, order.Currency, order.Coupon));
        Assert.Equal(("k2x9c0v1s1t0r", "7012345678901", MariaHash), (order.AnonymousId, order.UserId, order.EmailHash));
        Assert.Equal("198.51.100.23", order.Ip);
        Assert.StartsWith("Mozilla/5.0 (Macintosh", order.UserAgent, StringComparison.Ordinal);
        Assert.Equal(new DateTimeOffset(2026, 10, 5, 9, 42, 0, TimeSpan.Zero), order.Timestamp);
        Assert.Equal(("shopify", "demo:k2x9c0v1s1t0r"), (order.Source, order.PartitionKey));

        var properties = order.Properties!.Value;
        Assert.Equal(topic, properties.GetProperty("topic").GetString());
        Assert.Equal("#1042", properties.GetProperty("order_name").GetString());
        Assert.Equal(("CHF", "143.40"), (properties.GetProperty("presentment_currency").GetString(), properties.GetProperty("presentment_total").GetString()));
        Assert.Equal("""[{"product_id":8012345678901,"variant_id":45012345678901,"sku":"ESP-100-SLV","name":"Espresso machine - Silver","quantity":1,"price":"149.00"},{"product_id":8012345678902,"variant_id":45012345678902,"sku":"BEAN-250","name":"Coffee beans 250 g","quantity":2,"price":"8.78"}]""",
            properties.GetProperty("items").GetRawText());
        Assert.DoesNotContain("maria.keller", Encoding.UTF8.GetString(EventCodec.Encode(order)), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Shopifys_own_order_fixture_maps_with_its_customer_and_no_visitor()
    {
        // Shopify/shopify-api-ruby test/fixtures/order.json (MIT): the REST Order resource a webhook carries.
        var order = One(ToBytes(Json("shopify/shopify-api-ruby_test_fixtures_order.json")["order"]!), "orders/create");

        Assert.Equal(("450789469", 409.94m, "USD", "TENOFF"), (order.OrderId, order.Amount, order.Currency, order.Coupon));
        Assert.Equal("207119551", order.UserId);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("bob.norman@hostmail.com"u8)), order.EmailHash);
        // No insights_visitor_id note attribute (no glue), and browser_ip 0.0.0.0 is no address.
        Assert.Null(order.AnonymousId);
        Assert.Null(order.Ip);
        // Created in 2008: far outside even the webhooks' window, so the receive time stands in, marked.
        Assert.True(order.TimestampClamped);
    }

    [Fact]
    public void A_refund_is_the_sum_of_its_successful_refund_transactions()
    {
        var refund = One(Bytes("shopify/refunds_create.json"), "refunds/create");

        Assert.Equal(("shopify:refund:1012345678901", EventTypes.OrderRefunded, "5912345678901"), (refund.EventId, refund.Type, refund.OrderId));
        Assert.Equal((17.56m, "EUR"), (refund.Amount, refund.Currency));
        Assert.Equal(new DateTimeOffset(2026, 10, 12, 7, 15, 0, TimeSpan.Zero), refund.Timestamp);
        Assert.Null(refund.AnonymousId);
    }

    [Fact]
    public void A_refund_without_money_is_acknowledged_and_ignored()
    {
        var body = Json("shopify/refunds_create.json");
        body["transactions"] = new JsonArray();

        Assert.Equal((WebhookVerdict.Ignored, WebhookReasons.NoMoneyRefunded), Verdict(Receive(ToBytes(body), "refunds/create")));
    }

    [Fact]
    public void A_refund_in_two_currencies_is_refused()
    {
        var body = Json("shopify/refunds_create.json");
        body["transactions"]![1]!["status"] = "success";
        body["transactions"]![1]!["currency"] = "CHF";

        Assert.Equal((WebhookVerdict.Invalid, TypeRejectReasons.InvalidCurrency), Verdict(Receive(ToBytes(body), "refunds/create")));
    }

    [Fact]
    public void A_cancelled_order_is_order_cancelled_at_its_cancellation_time()
    {
        var cancelled = One(Bytes("shopify/orders_cancelled.json"), "orders/cancelled");

        Assert.Equal(("shopify:order_cancelled:5912345678901", EventTypes.OrderCancelled, "5912345678901"), (cancelled.EventId, cancelled.Type, cancelled.OrderId));
        Assert.Equal(new DateTimeOffset(2026, 10, 6, 6, 0, 0, TimeSpan.Zero), cancelled.Timestamp);
        Assert.Equal("customer", cancelled.Properties!.Value.GetProperty("cancel_reason").GetString());
        Assert.Equal("k2x9c0v1s1t0r", cancelled.AnonymousId);
    }

    [Fact]
    public void Test_orders_and_other_topics_are_acknowledged_and_ignored()
    {
        var test = Json("shopify/orders_create.json");
        test["test"] = true;
        Assert.Equal((WebhookVerdict.Ignored, WebhookReasons.TestOrder), Verdict(Receive(ToBytes(test), "orders/create")));

        Assert.Equal((WebhookVerdict.Ignored, WebhookReasons.UnmappedTopic), Verdict(Receive(Bytes("shopify/orders_create.json"), "orders/updated")));
    }

    [Fact]
    public void A_missing_signature_is_unauthorized()
    {
        Assert.Equal((WebhookVerdict.Unauthorized, WebhookReasons.MissingSignature), Verdict(Receive(Bytes("shopify/orders_create.json"), "orders/create", null)));
        Assert.Equal((WebhookVerdict.Unauthorized, WebhookReasons.MissingSignature), Verdict(Receive(Bytes("shopify/orders_create.json"), "orders/create", " ")));
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // the right length, the wrong digest
    [InlineData("not base64 at all")]
    [InlineData("")]
    [InlineData("c2hvcnQ=")] // valid base64, too short
    public void A_wrong_signature_is_unauthorized(string signature)
    {
        var outcome = Receive(Bytes("shopify/orders_create.json"), "orders/create", signature);

        Assert.Equal(WebhookVerdict.Unauthorized, outcome.Verdict);
        Assert.Empty(outcome.Events);
    }

    [Fact]
    public void A_signature_made_with_another_secret_is_unauthorized()
    {
        var body = Bytes("shopify/orders_create.json");

        var outcome = Receive(body, "orders/create", Sign(body, "shpss_another_app_secret_0123456789"));

        Assert.Equal((WebhookVerdict.Unauthorized, WebhookReasons.InvalidSignature), Verdict(outcome));
    }

    [Fact]
    public void A_body_altered_after_signing_is_unauthorized()
    {
        var body = Bytes("shopify/orders_create.json");
        var signature = Sign(body, ShopifySecret);
        var altered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\"total_price\": \"149.90\"", "\"total_price\": \"1499.00\"", StringComparison.Ordinal));
        Assert.NotEqual(body, altered);

        Assert.Equal((WebhookVerdict.Unauthorized, WebhookReasons.InvalidSignature), Verdict(Receive(altered, "orders/create", signature)));
        // Even a change JSON does not see (whitespace) breaks the signature: it is over the raw bytes.
        Assert.Equal((WebhookVerdict.Unauthorized, WebhookReasons.InvalidSignature), Verdict(Receive([.. body, (byte)' '], "orders/create", signature)));
    }

    [Fact]
    public void A_signed_body_without_a_topic_or_with_invalid_money_is_invalid()
    {
        Assert.Equal((WebhookVerdict.Invalid, WebhookReasons.MissingTopic), Verdict(Receive(Bytes("shopify/orders_create.json"), "")));

        var noCurrency = Json("shopify/orders_create.json");
        noCurrency["currency"] = "EURO";
        Assert.Equal((WebhookVerdict.Invalid, TypeRejectReasons.InvalidCurrency), Verdict(Receive(ToBytes(noCurrency), "orders/create")));

        var badTotal = Json("shopify/orders_create.json");
        badTotal["total_price"] = "-1.00";
        Assert.Equal((WebhookVerdict.Invalid, TypeRejectReasons.InvalidAmount), Verdict(Receive(ToBytes(badTotal), "orders/create")));

        var noId = Json("shopify/orders_create.json");
        noId.Remove("id");
        Assert.Equal((WebhookVerdict.Invalid, WebhookReasons.InvalidPayload), Verdict(Receive(ToBytes(noId), "orders/create")));
    }

    [Fact]
    public void Signed_garbage_is_invalid_not_a_crash()
    {
        Assert.Equal(RejectReasons.MalformedJson, Receive("{\"id\": 1, "u8.ToArray(), "orders/create").Reason);
        Assert.Equal(RejectReasons.InvalidUtf8, Receive([(byte)'{', 0xC0, (byte)'}'], "orders/create").Reason);
        Assert.Equal(RejectReasons.MalformedJson, Receive(Encoding.UTF8.GetBytes(new string('[', 10_000) + new string(']', 10_000)), "orders/create").Reason);
        Assert.Equal(WebhookReasons.InvalidPayload, Receive("\"an order\""u8.ToArray(), "orders/create").Reason);
    }

    [Fact]
    public void Many_line_items_are_cut_to_the_limit_and_the_total_stays_the_shops()
    {
        var body = Json("shopify/orders_create.json");
        var items = new JsonArray();
        for (var i = 0; i < 150; i++)
        {
            items.Add(new JsonObject { ["product_id"] = i, ["quantity"] = 1, ["price"] = "1.00" });
        }

        body["line_items"] = items;
        var order = One(ToBytes(body), "orders/create");

        Assert.Equal(100, order.Properties!.Value.GetProperty("items").GetArrayLength());
        Assert.Equal(150, order.Properties!.Value.GetProperty("items_total").GetInt32());
        Assert.Equal(149.90m, order.Amount);
    }

    private static (WebhookVerdict, string) Verdict(WebhookOutcome outcome) => (outcome.Verdict, outcome.Reason);
}
