using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Insights.QueryApi.Apis;

/// <summary>Marks endpoints that need a site's read key, so the OpenAPI document lists the key schemes on them.</summary>
public sealed class ReadKeyRequiredMetadata
{
    public static readonly ReadKeyRequiredMetadata Instance = new();
}

public static class OpenApiDocumentExtensions
{
    public static TBuilder RequireReadKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(ReadKeyRequiredMetadata.Instance);

    /// <summary>Title, the two ways to present a read key as security schemes, and the schemes on every endpoint that needs one.</summary>
    public static OpenApiOptions AddReadKeySecurity(this OpenApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Insights query API";
            document.Info.Description =
                "Reports over a site's events. Every report needs one of the site's read keys (a write or server key cannot read). " +
                "Errors are RFC 7807 problem details with a machine-readable 'reason'.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ReadKeys.BearerSchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The site's read key as a bearer token: 'Authorization: Bearer YOUR_READ_KEY'.",
            };
            document.Components.SecuritySchemes[ReadKeys.SchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ReadKeys.HeaderName,
                Description = "The site's read key in the X-Insights-Key header.",
            };
            return Task.CompletedTask;
        });

        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<ReadKeyRequiredMetadata>().Any())
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
