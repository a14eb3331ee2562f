using Insights.Contracts;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Insights.QueryApi.Apis;

/// <summary>Marks endpoints that need one of a site's keys, so the OpenAPI document lists the key schemes on them. (The
/// key is checked by the mediator pipeline, not by this: it only documents.)</summary>
public sealed class KeyRequiredMetadata(KeyKind kind)
{
    public KeyKind Kind { get; } = kind;
}

public static class OpenApiDocumentExtensions
{
    public static TBuilder RequireReadKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new KeyRequiredMetadata(KeyKind.Read));

    public static TBuilder RequireServerKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new KeyRequiredMetadata(KeyKind.Server));

    /// <summary>Title, the two ways to present a key as security schemes, and the schemes on every endpoint that needs one.</summary>
    public static OpenApiOptions AddReadKeySecurity(this OpenApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Insights query API";
            document.Info.Description =
                "Reports over a site's events, and a person's stored data (export, erasure). Every report needs one of the site's read keys " +
                "(a write or server key cannot read); a person's data needs the site's server key (a read key cannot export or erase). " +
                "Errors are RFC 7807 problem details with a machine-readable 'reason'.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ReadKeys.BearerSchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The site's key as a bearer token: 'Authorization: Bearer YOUR_KEY' (a read key for reports, the server key for a person's data).",
            };
            document.Components.SecuritySchemes[ReadKeys.SchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ReadKeys.HeaderName,
                Description = "The site's key in the X-Insights-Key header (a read key for reports, the server key for a person's data).",
            };
            return Task.CompletedTask;
        });

        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<KeyRequiredMetadata>().Any())
            {
                // Two requirements: either scheme alone is enough.
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ReadKeys.BearerSchemeName, context.Document)] = [] });
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ReadKeys.SchemeName, context.Document)] = [] });
            }

            return Task.CompletedTask;
        });
        return options;
    }
}
