using System.Text.Json;
using Insights.Contracts;
using Insights.Ingest.Masking;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Webhooks;

/// <summary>
/// WooCommerce order webhooks (<c>order.created</c>, <c>order.updated</c>, <c>order.restored</c>,
/// <c>order.deleted</c>; the body is the REST API v3 order) → order events, after checking
/// <c>X-WC-Webhook-Signature</c> over the raw body. The unsigned ping WooCommerce sends when a webhook is saved
/// (<c>webhook_id=N</c>, form-encoded) is answered 200 and ingests nothing; without that answer the webhook cannot be created.
/// </summary>
/// <remarks>
/// WooCommerce sends the whole order on every change, so one delivery says everything known: the order when its
/// status means it was placed (processing, completed, on-hold), its cancellation (cancelled, failed, deleted), and each
/// refund in <c>refunds</c>. Every event's id is derived from the order or refund id and its time from the order, so the
/// same facts sent again on the next update are the same events, which storage keeps once. The topic must match the
/// signed body (order.deleted is an id only, the others a whole order), the source must be the site's
/// <c>WooCommerceStoreUrl</c> when one is configured, and a re-delivery (same <c>X-WC-Webhook-Delivery-ID</c>) is
/// produced once (<see cref="RecentDeliveries"/>).
/// </remarks>
public static class WooCommerceWebhook
{
    public const string SignatureHeader = "X-WC-Webhook-Signature";
    public const string TopicHeader = "X-WC-Webhook-Topic";
    public const string ResourceHeader = "X-WC-Webhook-Resource";
    public const string EventHeader = "X-WC-Webhook-Event";
    public const string SourceHeader = "X-WC-Webhook-Source";
    public const string DeliveryIdHeader = "X-WC-Webhook-Delivery-ID";

    /// <summary>The order meta key the glue writes (a leading underscore, WordPress's "hidden" convention, is accepted too).</summary>
    public const string VisitorIdMetaKey = "insights_visitor_id";

    public static WebhookOutcome Receive(ReadOnlyMemory<byte> body, WooCommerceDelivery delivery, string secret, WebhookContext context)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrWhiteSpace(delivery.Signature))
        {
            return IsPing(body.Span)
                ? WebhookOutcome.Ignore(WebhookReasons.Ping, "WooCommerce's delivery test, answered so the webhook can be saved.")
                : WebhookOutcome.Unauthorized(WebhookReasons.MissingSignature, $"The request has no {SignatureHeader} header.");
        }

        if (!WebhookSignatures.IsValidHmac(body.Span, secret, delivery.Signature))
        {
            return WebhookOutcome.Unauthorized(WebhookReasons.InvalidSignature,
                $"{SignatureHeader} is not the HMAC-SHA256 of this body with the secret configured for this site's WooCommerce integration.");
        }

        if (context.Site.WooCommerceStoreUrl is { Length: > 0 } store && !IsSameStore(delivery.Source, store))
        {
            return WebhookOutcome.Forbidden(WebhookReasons.WrongStore,
                $"{SourceHeader} is \"{Truncate(delivery.Source)}\", not this site's store ({nameof(SiteOptions.WooCommerceStoreUrl)} {store}).");
        }

        if (IsPing(body.Span))
        {
            return WebhookOutcome.Ignore(WebhookReasons.Ping, "WooCommerce's delivery test.");
        }

        var topic = delivery.Topic;
        if (string.IsNullOrWhiteSpace(topic))
        {
            return WebhookOutcome.Invalid(WebhookReasons.MissingTopic, $"The request has no {TopicHeader} header.");
        }

        if (topic is not ("order.created" or "order.updated" or "order.restored" or "order.deleted"))
        {
            return WebhookOutcome.Ignore(WebhookReasons.UnmappedTopic, $"WooCommerce topic \"{topic}\" is not mapped to events.");
        }

        // WooCommerce also names the topic's halves; a delivery whose headers disagree with each other is not its own.
        if ((delivery.Resource is not null || delivery.Event is not null) && topic != $"{delivery.Resource}.{delivery.Event}")
        {
            return WebhookOutcome.Invalid(WebhookReasons.TopicMismatch,
                $"{TopicHeader} is \"{topic}\" but {ResourceHeader}/{EventHeader} say \"{Truncate(delivery.Resource)}.{Truncate(delivery.Event)}\".");
        }

        using var document = WebhookJson.Parse(body, context, out var refused);
        if (document is null)
        {
            return refused!;
        }

        try
        {
            // The topic header is not signed, the body is: a captured order.created body re-sent as order.deleted must not
            // delete (cancel) the order.
            if (TopicMismatch(document.RootElement, topic) is { } mismatch)
            {
                return WebhookOutcome.Invalid(WebhookReasons.TopicMismatch, mismatch);
            }

            var events = Map(document.RootElement, topic, context);
            return events.Count > 0
                ? WebhookOutcome.Produce(events)
                : WebhookOutcome.Ignore(WebhookReasons.OrderNotPlaced, "The order is not placed yet (pending payment or a checkout draft).");
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

    /// <summary>
    /// Why the body is not what <paramref name="topic"/> says, or null: order.deleted carries only the order's id
    /// (WooCommerce sends <c>{"id": N}</c> for a deleted resource); the others a whole order (status, key, line items).
    /// </summary>
    internal static string? TopicMismatch(JsonElement order, string topic)
    {
        var wholeOrder = order.Get("status"u8).ValueKind == JsonValueKind.String
            && order.Get("order_key"u8).ValueKind == JsonValueKind.String
            && order.Get("line_items"u8).ValueKind == JsonValueKind.Array;
        if (topic == "order.deleted")
        {
            return order.Get("status"u8).ValueKind == JsonValueKind.Undefined && order.Get("line_items"u8).ValueKind == JsonValueKind.Undefined
                ? null
                : "order.deleted carries only the deleted order's id; this body is a whole order.";
        }

        return wholeOrder ? null : $"{topic} needs an order body: \"status\", \"order_key\" and \"line_items\".";
    }

    /// <summary>Scheme, host (any case), port and path (without trailing '/') alike.</summary>
    internal static bool IsSameStore(string? source, string configured) =>
        Uri.TryCreate(source?.Trim(), UriKind.Absolute, out var a) && Uri.TryCreate(configured.Trim(), UriKind.Absolute, out var b)
        && a.Scheme == b.Scheme && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port
        && a.AbsolutePath.TrimEnd('/') == b.AbsolutePath.TrimEnd('/');

    private static string Truncate(string? text) => text is null ? "" : text.Length <= 64 ? text : text[..64] + "…";

    /// <summary><c>webhook_id=123</c>: what <c>WC_Webhook::deliver_ping</c> posts.</summary>
    internal static bool IsPing(ReadOnlySpan<byte> body)
    {
        body = body.Trim(" \t\r\n"u8);
        if (!body.StartsWith("webhook_id="u8) || body.Length == "webhook_id="u8.Length || body.Length > 40)
        {
            return false;
        }

        foreach (var b in body["webhook_id="u8.Length..])
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
        }

        return true;
    }

    private static List<PipelineEvent> Map(JsonElement order, string topic, WebhookContext context)
    {
        var orderId = order.Get("id"u8).Id("id", context);
        var events = new List<PipelineEvent>();
        // order.deleted carries only the id: the order is in the bin, its revenue is gone.
        var status = topic == "order.deleted" ? "deleted" : order.Get("status"u8).Text();
        var created = order.Get("date_created_gmt"u8).Time();
        switch (status)
        {
            case "processing" or "completed" or "on-hold":
                events.Add(Order(order, orderId, created, context));
                break;
            case "cancelled" or "failed" or "deleted":
                events.Add(Cancelled(order, orderId, status, created, context));
                break;
        }

        foreach (var refund in order.Get("refunds"u8).Items())
        {
            events.Add(Refund(order, orderId, refund, created, context));
        }

        return events;
    }

    private static PipelineEvent Order(JsonElement order, string orderId, DateTimeOffset? created, WebhookContext context)
    {
        var amount = order.Get("total"u8).Amount("total") ?? throw new WebhookPayloadException(TypeRejectReasons.MissingAmount, "\"total\" is required");
        var person = PersonOf(order, context);
        var coupon = order.Get("coupon_lines"u8).Items().Select(line => line.Get("code"u8).Text()).FirstOrDefault(code => code is not null);
        return person.On(WebhookJson.NewEvent(context, EventSources.WooCommerce, EventTypes.Order, $"woocommerce:order:{orderId}", created) with
        {
            OrderId = orderId,
            Amount = amount,
            Currency = order.Get("currency"u8).Currency("currency"),
            Coupon = coupon is { Length: <= 256 } ? coupon : null,
            Properties = WebhookJson.Build(writer =>
            {
                writer.CopyIfPresent("order_number", order.Get("number"u8));
                writer.CopyIfPresent("status", order.Get("status"u8));
                writer.CopyIfPresent("payment_method", order.Get("payment_method"u8));
                writer.CopyIfPresent("shipping_total", order.Get("shipping_total"u8));
                writer.CopyIfPresent("total_tax", order.Get("total_tax"u8));
                writer.CopyIfPresent("discount_total", order.Get("discount_total"u8));
                writer.CopyIfPresent("created_via", order.Get("created_via"u8));
                writer.WriteItems(order.Get("line_items"u8), context.Limits.MaxItems, "product_id", "variation_id", "sku", "name", "quantity", "total");
            }),
        }, withDevice: true);
    }

    private static PipelineEvent Cancelled(JsonElement order, string orderId, string status, DateTimeOffset? created, WebhookContext context)
    {
        var amount = order.Get("total"u8).Amount("total");
        var person = PersonOf(order, context);
        return person.On(WebhookJson.NewEvent(context, EventSources.WooCommerce, EventTypes.OrderCancelled, $"woocommerce:order_cancelled:{orderId}",
            order.Get("date_modified_gmt"u8).Time() ?? created) with
        {
            OrderId = orderId,
            Amount = amount,
            Currency = amount is null ? null : order.Get("currency"u8).Currency("currency"),
            Properties = WebhookJson.Build(writer => writer.WriteString("status", status)),
        }, withDevice: false);
    }

    /// <summary>
    /// WooCommerce lists an order's refunds as <c>{id, reason, total: "-10.00"}</c>, undated; the event takes the order's
    /// creation time so that the refund, repeated in every later update of the order, stays one event in storage.
    /// </summary>
    private static PipelineEvent Refund(JsonElement order, string orderId, JsonElement refund, DateTimeOffset? created, WebhookContext context)
    {
        var refundId = refund.Get("id"u8).Id("refunds[].id", context);
        var total = refund.Get("total"u8).Text();
        if (!EventValues.TryParseAmount(total, allowNegative: true, out var signed) || signed == 0)
        {
            throw new WebhookPayloadException(TypeRejectReasons.InvalidAmount, $"refund {refundId}: \"total\" must be a non-zero amount such as \"-10.00\"");
        }

        return WebhookJson.NewEvent(context, EventSources.WooCommerce, EventTypes.OrderRefunded, $"woocommerce:refund:{refundId}", created) with
        {
            OrderId = orderId,
            Amount = EventValues.RoundAmount(Math.Abs(signed)),
            Currency = order.Get("currency"u8).Currency("currency"),
            Properties = WebhookJson.Build(writer =>
            {
                writer.WriteString("refund_id", refundId);
                writer.CopyIfPresent("reason", refund.Get("reason"u8));
            }),
        };
    }

    /// <summary>Who placed the order: the visitor id from the order meta, the customer (0 is a guest), the billing e-mail.</summary>
    private static OrderPerson PersonOf(JsonElement order, WebhookContext context)
    {
        var visitor = order.Get("meta_data"u8).Items()
            .Where(meta => meta.Get("key"u8).Text() is VisitorIdMetaKey or "_" + VisitorIdMetaKey)
            .Select(meta => meta.Get("value"u8))
            .FirstOrDefault();
        var customer = order.Get("customer_id"u8).OptionalId("customer_id", context);
        return new OrderPerson(
            visitor.OptionalId("meta_data.insights_visitor_id", context),
            customer is null or "0" ? null : customer,
            EmailHash.Of(order.Get("billing"u8).Get("email"u8).Text()),
            WebhookJson.Ip(order.Get("customer_ip_address"u8).Text()),
            WebhookJson.UserAgent(order.Get("customer_user_agent"u8).Text()));
    }
}

/// <summary>The headers of a WooCommerce delivery that the mapping reads (only the body is signed).</summary>
public sealed record WooCommerceDelivery(string? Signature, string? Topic, string? Source = null, string? Resource = null, string? Event = null);
