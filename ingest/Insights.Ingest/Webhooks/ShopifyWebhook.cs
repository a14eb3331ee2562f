using System.Text.Json;
using Insights.Contracts;
using Insights.Ingest.Masking;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Webhooks;

/// <summary>
/// Shopify order webhooks (JSON deliveries of <c>orders/create</c>, <c>orders/paid</c>, <c>orders/cancelled</c>,
/// <c>refunds/create</c>; the body is the REST Order or Refund resource) → order events, after checking
/// <c>X-Shopify-Hmac-Sha256</c> over the raw body.
/// </summary>
/// <remarks>
/// <para>
/// orders/create and orders/paid are the same order: both map to one <c>order</c> event with the id
/// <c>shopify:order:&lt;id&gt;</c> and the order's creation time, so storage keeps one (and a platform retry is the
/// same event again). Money is the shop's: <c>total_price</c> in <c>currency</c>; what the customer saw
/// (<c>presentment_currency</c>) travels in the properties. Test orders (Bogus Gateway) are not revenue and are ignored.
/// </para>
/// <para>
/// The person: the tracker's visitor id from the order's note attributes (the glue sets the cart attribute
/// <c>insights_visitor_id</c>, which Shopify copies to the order), the Shopify customer id as user id (what a storefront
/// <c>identify</c> with <c>{{ customer.id }}</c> sends), and the e-mail hash.
/// </para>
/// <para>
/// Bound to what it says: the topic must match the signed body (a cancellation has <c>cancelled_at</c>, a refund is a
/// Refund, orders/paid is paid), the shop domain must be the site's <c>ShopifyShopDomain</c> when one is configured,
/// and a re-delivery (same <c>X-Shopify-Webhook-Id</c>) is produced once (<see cref="RecentDeliveries"/>).
/// </para>
/// </remarks>
public static class ShopifyWebhook
{
    public const string HmacHeader = "X-Shopify-Hmac-Sha256";
    public const string TopicHeader = "X-Shopify-Topic";

    /// <summary>Shopify's "events" deliveries name the same headers without the X- prefix.</summary>
    public const string EventsHmacHeader = "Shopify-Hmac-Sha256";

    public const string EventsTopicHeader = "Shopify-Topic";

    public const string ShopDomainHeader = "X-Shopify-Shop-Domain";
    public const string EventsShopDomainHeader = "Shopify-Shop-Domain";
    public const string WebhookIdHeader = "X-Shopify-Webhook-Id";
    public const string EventsWebhookIdHeader = "Shopify-Webhook-Id";

    public const string VisitorIdAttribute = "insights_visitor_id";

    public static WebhookOutcome Receive(ReadOnlyMemory<byte> body, ShopifyDelivery delivery, string secret, WebhookContext context)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrWhiteSpace(delivery.Signature))
        {
            return WebhookOutcome.Unauthorized(WebhookReasons.MissingSignature, $"The request has no {HmacHeader} header.");
        }

        if (!WebhookSignatures.IsValidHmac(body.Span, secret, delivery.Signature))
        {
            return WebhookOutcome.Unauthorized(WebhookReasons.InvalidSignature,
                $"{HmacHeader} is not the HMAC-SHA256 of this body with the secret configured for this site's Shopify integration.");
        }

        // One app's client secret signs the webhooks of every shop that installed the app: the signature proves Shopify
        // sent it, the domain says for which shop.
        if (context.Site.ShopifyShopDomain is { Length: > 0 } shop
            && !string.Equals(delivery.ShopDomain?.Trim(), shop.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return WebhookOutcome.Forbidden(WebhookReasons.WrongShop,
                $"{ShopDomainHeader} is \"{Truncate(delivery.ShopDomain)}\", not this site's shop ({nameof(SiteOptions.ShopifyShopDomain)} {shop}).");
        }

        var topic = delivery.Topic;
        if (string.IsNullOrWhiteSpace(topic))
        {
            return WebhookOutcome.Invalid(WebhookReasons.MissingTopic, $"The request has no {TopicHeader} header.");
        }

        if (topic is not ("orders/create" or "orders/paid" or "orders/cancelled" or "refunds/create"))
        {
            return WebhookOutcome.Ignore(WebhookReasons.UnmappedTopic, $"Shopify topic \"{topic}\" is not mapped to events.");
        }

        using var document = WebhookJson.Parse(body, context, out var refused);
        if (document is null)
        {
            return refused!;
        }

        var root = document.RootElement;
        try
        {
            if (root.Get("test"u8).ValueKind == JsonValueKind.True)
            {
                return WebhookOutcome.Ignore(WebhookReasons.TestOrder, "Test orders are not revenue.");
            }

            // The topic header is not signed, the body is: the body must be what the topic says, or a captured order
            // could be re-sent as its own cancellation.
            if (TopicMismatch(root, topic) is { } mismatch)
            {
                return WebhookOutcome.Invalid(WebhookReasons.TopicMismatch, mismatch);
            }

            return topic switch
            {
                "refunds/create" => Refund(root, context),
                "orders/cancelled" => WebhookOutcome.Produce([Cancelled(root, context)]),
                _ => WebhookOutcome.Produce([Order(root, topic, context)]),
            };
        }
        catch (WebhookPayloadException error)
        {
            return WebhookOutcome.Invalid(error.Reason, error.Message);
        }
        catch (InvalidOperationException)
        {
            return WebhookOutcome.Invalid(RejectReasons.InvalidField, "The payload holds an invalid Unicode escape (a lone surrogate).");
        }
    }

    /// <summary>Why the body is not what <paramref name="topic"/> says, or null when it is.</summary>
    internal static string? TopicMismatch(JsonElement root, string topic)
    {
        if (topic == "refunds/create")
        {
            return root.Get("id"u8).Text() is not null && root.Get("order_id"u8).Text() is not null
                && (root.Get("transactions"u8).ValueKind == JsonValueKind.Array || root.Get("refund_line_items"u8).ValueKind == JsonValueKind.Array)
                ? null
                : "refunds/create needs a Refund body: \"id\", \"order_id\" and \"transactions\" or \"refund_line_items\".";
        }

        // An Order has a total and line items; a refund (which names its order_id) is not one. (Its id is the mapping's to require.)
        if (root.Get("total_price"u8).Text() is null
            || root.Get("line_items"u8).ValueKind != JsonValueKind.Array || root.Get("order_id"u8).ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
        {
            return $"{topic} needs an Order body: \"total_price\" and \"line_items\", and no \"order_id\".";
        }

        return topic switch
        {
            "orders/cancelled" when root.Get("cancelled_at"u8).Time() is null =>
                "orders/cancelled needs an order with \"cancelled_at\" set; this order is not cancelled.",
            "orders/paid" when root.Get("financial_status"u8).Text() is not ("paid" or "partially_refunded" or "refunded") =>
                "orders/paid needs an order whose \"financial_status\" is paid (or refunded since).",
            _ => null,
        };
    }

    private static string Truncate(string? text) => text is null ? "" : text.Length <= 64 ? text : text[..64] + "…";

    private static PipelineEvent Order(JsonElement order, string topic, WebhookContext context)
    {
        var orderId = order.Get("id"u8).Id("id", context);
        var amount = order.Get("total_price"u8).Amount("total_price")
            ?? throw new WebhookPayloadException(TypeRejectReasons.MissingAmount, "\"total_price\" is required");
        var currency = order.Get("currency"u8).Currency("currency");
        var person = PersonOf(order, context);
        var coupon = order.Get("discount_codes"u8).Items().Select(code => code.Get("code"u8).Text()).FirstOrDefault(code => code is not null);
        return person.On(WebhookJson.NewEvent(context, EventSources.Shopify, EventTypes.Order, $"shopify:order:{orderId}", order.Get("created_at"u8).Time()) with
        {
            OrderId = orderId,
            Amount = amount,
            Currency = currency,
            Coupon = coupon is { Length: <= 256 } ? coupon : null,
            Properties = WebhookJson.Build(writer =>
            {
                writer.WriteString("topic", topic);
                writer.CopyIfPresent("order_name", order.Get("name"u8));
                writer.CopyIfPresent("financial_status", order.Get("financial_status"u8));
                writer.CopyIfPresent("subtotal_price", order.Get("subtotal_price"u8));
                writer.CopyIfPresent("total_tax", order.Get("total_tax"u8));
                writer.CopyIfPresent("total_discounts", order.Get("total_discounts"u8));
                writer.CopyIfPresent("presentment_currency", order.Get("presentment_currency"u8));
                writer.CopyIfPresent("presentment_total", order.Get("total_price_set"u8).Get("presentment_money"u8).Get("amount"u8));
                writer.CopyIfPresent("source_name", order.Get("source_name"u8));
                writer.CopyIfPresent("landing_site", order.Get("landing_site"u8));
                writer.CopyIfPresent("referring_site", order.Get("referring_site"u8));
                writer.WriteItems(order.Get("line_items"u8), context.Limits.MaxItems, "product_id", "variant_id", "sku", "name", "quantity", "price");
            }),
        }, withDevice: true);
    }

    private static PipelineEvent Cancelled(JsonElement order, WebhookContext context)
    {
        var orderId = order.Get("id"u8).Id("id", context);
        var amount = order.Get("total_price"u8).Amount("total_price");
        var currency = amount is null ? null : order.Get("currency"u8).Currency("currency");
        var person = PersonOf(order, context);
        return person.On(WebhookJson.NewEvent(context, EventSources.Shopify, EventTypes.OrderCancelled, $"shopify:order_cancelled:{orderId}",
            order.Get("cancelled_at"u8).Time() ?? order.Get("updated_at"u8).Time()) with
        {
            OrderId = orderId,
            Amount = amount,
            Currency = currency,
            Properties = WebhookJson.Build(writer =>
            {
                writer.CopyIfPresent("order_name", order.Get("name"u8));
                writer.CopyIfPresent("cancel_reason", order.Get("cancel_reason"u8));
                writer.CopyIfPresent("financial_status", order.Get("financial_status"u8));
            }),
        }, withDevice: false);
    }

    /// <summary>The money refunded is the sum of the refund's successful refund transactions (a restock-only refund has none).</summary>
    private static WebhookOutcome Refund(JsonElement refund, WebhookContext context)
    {
        var refundId = refund.Get("id"u8).Id("id", context);
        var orderId = refund.Get("order_id"u8).Id("order_id", context);
        var amount = 0m;
        string? currency = null;
        foreach (var transaction in refund.Get("transactions"u8).Items())
        {
            if (transaction.Get("kind"u8).Text() != "refund" || transaction.Get("status"u8).Text() is { } status && status != "success")
            {
                continue;
            }

            amount += transaction.Get("amount"u8).Amount("transactions[].amount") ?? 0m;
            var code = transaction.Get("currency"u8).Currency("transactions[].currency");
            if (currency is not null && code != currency)
            {
                throw new WebhookPayloadException(TypeRejectReasons.InvalidCurrency, $"The refund's transactions are in {currency} and {code}; one refund event has one currency.");
            }

            currency = code;
        }

        if (amount <= 0 || currency is null)
        {
            return WebhookOutcome.Ignore(WebhookReasons.NoMoneyRefunded, "The refund has no successful refund transaction (a restock or a note).");
        }

        return WebhookOutcome.Produce([
            WebhookJson.NewEvent(context, EventSources.Shopify, EventTypes.OrderRefunded, $"shopify:refund:{refundId}",
                refund.Get("processed_at"u8).Time() ?? refund.Get("created_at"u8).Time()) with
            {
                OrderId = orderId,
                Amount = EventValues.RoundAmount(amount),
                Currency = currency,
                Properties = WebhookJson.Build(writer =>
                {
                    writer.WriteString("refund_id", refundId);
                    writer.CopyIfPresent("note", refund.Get("note"u8));
                }),
            },
        ]);
    }

    /// <summary>Who placed the order, as far as the order says.</summary>
    private static OrderPerson PersonOf(JsonElement order, WebhookContext context)
    {
        var customer = order.Get("customer"u8);
        var client = order.Get("client_details"u8);
        var visitor = order.Get("note_attributes"u8).Items()
            .Where(attribute => attribute.Get("name"u8).Text() == VisitorIdAttribute)
            .Select(attribute => attribute.Get("value"u8))
            .FirstOrDefault();
        return new OrderPerson(
            visitor.OptionalId("note_attributes.insights_visitor_id", context),
            customer.Get("id"u8).OptionalId("customer.id", context),
            EmailHash.Of(order.Get("email"u8).Text() ?? order.Get("contact_email"u8).Text() ?? customer.Get("email"u8).Text()),
            WebhookJson.Ip(order.Get("browser_ip"u8).Text() ?? client.Get("browser_ip"u8).Text()),
            WebhookJson.UserAgent(client.Get("user_agent"u8).Text()));
    }
}

/// <summary>The headers of a Shopify delivery that the mapping reads (only the body is signed).</summary>
public sealed record ShopifyDelivery(string? Signature, string? Topic, string? ShopDomain = null);
