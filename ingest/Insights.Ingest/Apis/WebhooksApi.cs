using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using Insights.Contracts;
using Insights.Ingest.Kafka;
using Insights.Ingest.Masking;
using Insights.Ingest.Parsing;
using Insights.Ingest.RateLimiting;
using Insights.Ingest.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Apis;

/// <summary>
/// <c>POST /v1/webhooks/{livechat|shopify|woocommerce}/{site}</c>: the platforms' own notifications, authenticated
/// by the secret each site configured for that platform, mapped to chat and order events and produced like
/// <c>POST /v1/events</c>: 202 only once Kafka holds them, 503 when it does not. Refusals, once, here: 404 unknown
/// site or integration off, 413 too large, 415 compressed, 401 secret or signature missing or wrong, 400 a signed
/// payload we cannot map, 429 over the site's rate; 200 for an authenticated delivery with nothing to ingest (a
/// ping, a topic we do not map), so the platform does not retry it.
/// </summary>
public static class WebhooksApi
{
    public const string LiveChatPath = "/v1/webhooks/livechat/{site}";
    public const string ShopifyPath = "/v1/webhooks/shopify/{site}";
    public const string WooCommercePath = "/v1/webhooks/woocommerce/{site}";

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        Describe(app.MapPost(LiveChatPath, PostLiveChatAsync).WithName("PostLiveChatWebhook").WithSummary("Receive LiveChat webhooks")
            .WithDescription("Register this URL for incoming_chat, incoming_event, chat_deactivated, incoming_customer (v3.5) and " +
                "customer_session_fields_updated, with the site's LiveChatWebhookSecret as secret_key."));
        Describe(app.MapPost(ShopifyPath, PostShopifyAsync).WithName("PostShopifyWebhook").WithSummary("Receive Shopify order webhooks")
            .WithDescription("Subscribe this URL (JSON) to orders/create, orders/paid, orders/cancelled and refunds/create; " +
                "X-Shopify-Hmac-Sha256 is checked with the site's ShopifyWebhookSecret (the app's client secret)."));
        Describe(app.MapPost(WooCommercePath, PostWooCommerceAsync).WithName("PostWooCommerceWebhook").WithSummary("Receive WooCommerce order webhooks")
            .WithDescription("Add a webhook with this delivery URL for order.created, order.updated, order.deleted and order.restored, " +
                "with the site's WooCommerceWebhookSecret as secret; X-WC-Webhook-Signature is checked."));
        return app;
    }

    public static Task<Results<Accepted<WebhookResponse>, Ok<WebhookResponse>, ProblemHttpResult>> PostLiveChatAsync(
        string site, HttpContext http, [AsParameters] WebhookServices services) =>
        ReceiveAsync(http, site, WebhookPlatform.LiveChat, services);

    public static Task<Results<Accepted<WebhookResponse>, Ok<WebhookResponse>, ProblemHttpResult>> PostShopifyAsync(
        string site, HttpContext http, [AsParameters] WebhookServices services) =>
        ReceiveAsync(http, site, WebhookPlatform.Shopify, services);

    public static Task<Results<Accepted<WebhookResponse>, Ok<WebhookResponse>, ProblemHttpResult>> PostWooCommerceAsync(
        string site, HttpContext http, [AsParameters] WebhookServices services) =>
        ReceiveAsync(http, site, WebhookPlatform.WooCommerce, services);

    private static void Describe(RouteHandlerBuilder endpoint) => endpoint
        .WithTags("Webhooks")
        .Produces<WebhookResponse>(StatusCodes.Status202Accepted)
        .Produces<WebhookResponse>(StatusCodes.Status200OK)
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .ProducesProblem(StatusCodes.Status429TooManyRequests)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    private static async Task<Results<Accepted<WebhookResponse>, Ok<WebhookResponse>, ProblemHttpResult>> ReceiveAsync(
        HttpContext http, string siteId, WebhookPlatform platform, WebhookServices services)
    {
        var outcome = "error";
        try
        {
            var (result, reason) = await HandleAsync(http, siteId, platform, services);
            outcome = reason;
            return result;
        }
        finally
        {
            services.WebhookMetrics.Received(Name(platform), outcome);
        }
    }

    private static async Task<(Results<Accepted<WebhookResponse>, Ok<WebhookResponse>, ProblemHttpResult>, string Outcome)> HandleAsync(
        HttpContext http, string siteId, WebhookPlatform platform, WebhookServices services)
    {
        var request = http.Request;
        var limits = services.Limits.Value;
        if (services.Sites.FindById(siteId) is not { } site)
        {
            return Refuse(StatusCodes.Status404NotFound, WebhookReasons.UnknownSite, "No site has this id; the URL ends with the site's id.");
        }

        if (SecretOf(site, platform) is not { Length: > 0 } secret)
        {
            return Refuse(StatusCodes.Status404NotFound, WebhookReasons.IntegrationOff,
                $"The {Name(platform)} integration of site '{site.Id}' is off: configure its {SecretKeyName(platform)}.");
        }

        if (request.Headers.ContentEncoding is { Count: > 0 } encoding && encoding is not ["identity"])
        {
            return Refuse(StatusCodes.Status415UnsupportedMediaType, RejectReasons.UnsupportedMediaType, "Compressed bodies (Content-Encoding) are not accepted.");
        }

        RequestBody? body;
        try
        {
            // The raw bytes, bounded, before anything else: the signature is over them, and a sender who has not proved
            // anything yet must not make us hold more than the limit.
            body = await RequestBody.ReadAsync(request.BodyReader, request.ContentLength, limits.MaxBodyBytes, http.RequestAborted);
        }
        catch (BadHttpRequestException error)
        {
            return Refuse(error.StatusCode, error.StatusCode == StatusCodes.Status413PayloadTooLarge ? RejectReasons.BodyTooLarge : RejectReasons.UnreadableBody,
                error.Message);
        }

        if (body is null)
        {
            return Refuse(StatusCodes.Status413PayloadTooLarge, RejectReasons.BodyTooLarge, $"The body is larger than {limits.MaxBodyBytes} bytes.");
        }

        WebhookOutcome mapped;
        using (body)
        {
            var context = new WebhookContext(site, services.Time.GetUtcNow(), limits, services.Ingest.Value);
            mapped = platform switch
            {
                WebhookPlatform.LiveChat => LiveChatWebhook.Receive(body.Memory, secret, context),
                WebhookPlatform.Shopify => ShopifyWebhook.Receive(body.Memory,
                    Header(request, ShopifyWebhook.HmacHeader) ?? Header(request, ShopifyWebhook.EventsHmacHeader),
                    Header(request, ShopifyWebhook.TopicHeader) ?? Header(request, ShopifyWebhook.EventsTopicHeader), secret, context),
                _ => WooCommerceWebhook.Receive(body.Memory,
                    Header(request, WooCommerceWebhook.SignatureHeader), Header(request, WooCommerceWebhook.TopicHeader), secret, context),
            };
        }

        switch (mapped.Verdict)
        {
            case WebhookVerdict.Unauthorized:
                return Refuse(StatusCodes.Status401Unauthorized, mapped.Reason, mapped.Detail!);
            case WebhookVerdict.Invalid:
                services.Metrics.Rejected(mapped.Reason);
                return Refuse(StatusCodes.Status400BadRequest, mapped.Reason, mapped.Detail!);
            case WebhookVerdict.Ignored:
                return (TypedResults.Ok(new WebhookResponse(0, mapped.Reason, mapped.Detail)), mapped.Reason);
        }

        var events = mapped.Events;
        PersonalDataPolicy.Apply(site, events);
        if (!services.RateLimiter.TryAcquire(site, events.Count, out var retryAfter))
        {
            services.Metrics.Rejected(RejectReasons.RateLimited, events.Count);
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Refuse(StatusCodes.Status429TooManyRequests, RejectReasons.RateLimited, $"Site '{site.Id}' is over its rate limit; retry later.");
        }

        var messages = EventMessageEncoder.EncodeAll(events);
        var producing = Stopwatch.GetTimestamp();
        var delivery = await services.Kafka.DeliverAsync(messages, http.RequestAborted);
        if (!delivery.IsDelivered)
        {
            services.Metrics.Rejected(RejectReasons.KafkaUnavailable, messages.Length);
            http.Response.Headers.RetryAfter = services.Ingest.Value.UnavailableRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Refuse(StatusCodes.Status503ServiceUnavailable, RejectReasons.KafkaUnavailable,
                $"Kafka did not acknowledge the events ({delivery.Error}); the platform's retry of this delivery is counted once.");
        }

        services.Metrics.Delivered(Stopwatch.GetElapsedTime(producing));
        services.Metrics.Accepted(messages.Length);
        return (TypedResults.Accepted((string?)null, new WebhookResponse(messages.Length, null, null)), WebhookReasons.Accepted);
    }

    private static string? SecretOf(SiteOptions site, WebhookPlatform platform) => platform switch
    {
        WebhookPlatform.LiveChat => site.LiveChatWebhookSecret,
        WebhookPlatform.Shopify => site.ShopifyWebhookSecret,
        _ => site.WooCommerceWebhookSecret,
    };

    private static string SecretKeyName(WebhookPlatform platform) => platform switch
    {
        WebhookPlatform.LiveChat => nameof(SiteOptions.LiveChatWebhookSecret),
        WebhookPlatform.Shopify => nameof(SiteOptions.ShopifyWebhookSecret),
        _ => nameof(SiteOptions.WooCommerceWebhookSecret),
    };

    private static string Name(WebhookPlatform platform) => platform switch
    {
        WebhookPlatform.LiveChat => EventSources.LiveChat,
        WebhookPlatform.Shopify => EventSources.Shopify,
        _ => EventSources.WooCommerce,
    };

    private static string? Header(HttpRequest request, string name) => request.Headers[name] is [{ Length: > 0 } value] ? value : null;

    private static (Results<Accepted<WebhookResponse>, Ok<WebhookResponse>, ProblemHttpResult>, string) Refuse(int status, string reason, string detail) =>
        (TypedResults.Problem(detail: detail, statusCode: status, extensions: new Dictionary<string, object?> { ["reason"] = reason }), reason);
}

public enum WebhookPlatform
{
    LiveChat,
    Shopify,
    WooCommerce,
}

/// <summary>What the webhook endpoints need: singletons from the container, bundled by <c>[AsParameters]</c>.</summary>
public sealed class WebhookServices(
    SiteCatalog sites,
    SiteRateLimiter rateLimiter,
    KafkaEventSink kafka,
    IngestMetrics metrics,
    WebhookMetrics webhookMetrics,
    IOptions<WebhookOptions> limits,
    IOptions<IngestOptions> ingest,
    TimeProvider time)
{
    public SiteCatalog Sites { get; } = sites;

    public SiteRateLimiter RateLimiter { get; } = rateLimiter;

    public KafkaEventSink Kafka { get; } = kafka;

    public IngestMetrics Metrics { get; } = metrics;

    public WebhookMetrics WebhookMetrics { get; } = webhookMetrics;

    public IOptions<WebhookOptions> Limits { get; } = limits;

    public IOptions<IngestOptions> Ingest { get; } = ingest;

    public TimeProvider Time { get; } = time;
}

/// <summary>
/// The answer to a platform: how many events Kafka now holds (202), or why there was nothing to ingest (200, with
/// <see cref="Ignored"/> naming the reason).
/// </summary>
public sealed record WebhookResponse(
    int Accepted,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Ignored,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(WebhookResponse))]
internal sealed partial class WebhookJsonContext : JsonSerializerContext;
