using System.ComponentModel;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Insights.Ingest.Apis;

/// <summary>The OpenAPI document (<c>/openapi/v1.json</c>) and its interactive reference (<c>/docs</c>).</summary>
public static class IngestApiDocs
{
    public const string DocsPath = "/docs";

    public static IServiceCollection AddIngestApiDocs(this IServiceCollection services) =>
        services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Insights ingest API";
            document.Info.Description = "Send page views, custom events and identify (any key), and chats and orders (server key), and receive the platforms' webhooks. " +
                "Errors are RFC 7807 problem details with a machine-readable \"reason\".";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["writeKey"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = WriteKeys.HeaderName,
                Description = "The site's write key (public, for browsers: pageview, track, identify, screen, group and alias only) or server key (secret: every event type, " +
                    "and context.ip and context.userAgent). Only a write key may also be sent as ?key=; a server or read key there is refused (401 secret_key_in_url).",
            };
            document.Components.SecuritySchemes["basic"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "basic",
                Description = "Segment style: the key as user name, an empty password. Segment's routes also take the key as \"writeKey\" in the JSON body.",
            };
            document.Security ??= [];
            document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("writeKey", document)] = [] });
            document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("basic", document)] = [] });
            return Task.CompletedTask;
        }));

    /// <summary>The request body of <c>POST /v1/events</c>: an array of <see cref="IngestEventDocument"/> in any of the accepted framings.</summary>
    public static async Task DescribeEventsBodyAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(context);
        var batch = await context.GetOrCreateSchemaAsync(typeof(IngestEventDocument[]), cancellationToken: cancellationToken);
        var single = await context.GetOrCreateSchemaAsync(typeof(IngestEventDocument), cancellationToken: cancellationToken);
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "An array of events (at most 500, 500 KB), one event object, Segment's {\"batch\": [...]}, or NDJSON lines; each event at most 32 KB.",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/json"] = new() { Schema = batch },
                ["text/plain"] = new() { Schema = batch },
                ["application/x-ndjson"] = new() { Schema = single },
            },
        };
    }

    public static WebApplication MapIngestApiDocs(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapOpenApi();
        app.MapScalarApiReference(DocsPath, options => options.WithTitle("Insights ingest API"));
        return app;
    }
}

/// <summary>
/// One event as clients send it, for the OpenAPI document only: the parser reads the JSON directly
/// (<see cref="Parsing.EventMapper"/>) and is the authority on these rules.
/// </summary>
public sealed class IngestEventDocument
{
    [Description("\"pageview\" (alias \"page\"), \"track\" or \"identify\" with any key; \"order\", \"order_refunded\", \"order_cancelled\", " +
        "\"chat_started\", \"chat_message\", \"chat_ended\" and \"chat_rated\" with a server key (refused per event with needs_server_key otherwise).")]
    public required string Type { get; init; }

    [Description("Client-generated unique id (Segment's messageId); retries with the same id are counted once. Also accepted as event_id. " +
        "Stored in the key's namespace: pub:<id> for a write key, srv:<id> for a server key, so it never replaces another source's event.")]
    public string? MessageId { get; init; }

    [Description("The first-party visitor id. Required unless userId is given.")]
    public string? AnonymousId { get; init; }

    [Description("The site's own id for a known user.")]
    public string? UserId { get; init; }

    [Description("The name of a track event (required for track).")]
    public string? Event { get; init; }

    [Description("ISO 8601; when missing, the time ingest received the event. Clamped to received time when implausibly far off.")]
    public DateTimeOffset? Timestamp { get; init; }

    [Description("ISO 8601, the client's clock when it sent the event: corrects the timestamp for client clock skew.")]
    public DateTimeOffset? SentAt { get; init; }

    [Description("Free-form properties (an object). For a pageview, url/referrer/title here are used when context.page lacks them.")]
    public Dictionary<string, object?>? Properties { get; init; }

    [Description("Where the event happened.")]
    public IngestContextDocument? Context { get; init; }
}

public sealed class IngestContextDocument
{
    [Description("url (required for a pageview, or path + search), referrer, title.")]
    public Dictionary<string, string?>? Page { get; init; }

    [Description("Only honoured with a server key; otherwise the request's User-Agent.")]
    public string? UserAgent { get; init; }

    [Description("Only honoured with a server key; otherwise the client address of the request.")]
    public string? Ip { get; init; }

    [Description("BCP 47 language tag, e.g. en-GB.")]
    public string? Locale { get; init; }

    [Description("width and height in pixels.")]
    public Dictionary<string, int>? Screen { get; init; }

    [Description("source, medium, name, term, content; when absent, the page URL's utm_* parameters are used.")]
    public Dictionary<string, string?>? Campaign { get; init; }
}
