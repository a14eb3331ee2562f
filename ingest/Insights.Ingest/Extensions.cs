using Insights.ControlPlane;
using Insights.Contracts;
using Insights.Ingest.Admission;
using Insights.Ingest.Apis;
using Insights.Ingest.Kafka;
using Insights.Ingest.Network;
using Insights.Ingest.Parsing;
using Insights.Ingest.Privacy;
using Insights.Ingest.RateLimiting;
using Insights.Ingest.Tracker;
using Insights.Ingest.Webhooks;
using Insights.ServiceDefaults;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace Insights.Ingest;

public static class Extensions
{
    /// <summary>Everything <c>POST /v1/events</c> needs: validated options, sites, parser, producer, limits, metrics, docs.</summary>
    public static IHostApplicationBuilder AddIngest(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddValidatedOptions<IngestOptions, IngestOptionsValidator>(configuration, IngestOptions.Section);
        services.AddValidatedOptions<KafkaProducerOptions>(configuration, KafkaProducerOptions.Section);
        services.AddControlPlane(configuration); // sites and keys: the live SiteCatalog, seeded from section Sites

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IngestMetrics>();
        services.AddSingleton(provider => new EventBatchParser(provider.GetRequiredService<IOptions<IngestOptions>>().Value));
        services.AddSingleton(provider => new ClientIpResolver(provider.GetRequiredService<IOptions<IngestOptions>>().Value.TrustedProxies));
        services.AddSingleton<SiteRateLimiter>();
        services.AddSingleton<EventAdmission>();
        services.AddWebhooks(configuration);
        services.AddValidatedOptions<PrivacyOptions>(configuration, PrivacyOptions.Section);
        services.AddSingleton<CookielessVisitorIds>();
        services.AddSingleton(_ => TrackerScript.Load());
        services.AddKeyedSingleton(TrackerScript.Invitations, (_, _) => TrackerScript.Load(TrackerScript.Invitations));

        // One producer for the process, started with the host (so the first request does not pay for the connection)
        // and flushed after the server has drained its requests.
        services.AddSingleton<KafkaEventSink>();
        services.AddHostedService(provider => provider.GetRequiredService<KafkaEventSink>());
        services.AddValidatedOptions<BacklogOptions, BacklogOptionsValidator>(configuration, BacklogOptions.Section);
        services.AddSingleton<BacklogGate>();
        services.AddHostedService(provider => provider.GetRequiredService<BacklogGate>());
        services.AddHealthChecks().AddCheck<KafkaReadinessCheck>("kafka", tags: [HealthTags.Ready]);

        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, IngestJsonContext.Default));
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<IngestOptions>>((cors, ingest) =>
            cors.AddPolicy(IngestApi.CorsPolicy, policy => policy
                .AllowAnyOrigin()
                .WithMethods(HttpMethods.Post)
                .WithHeaders("Content-Type", WriteKeys.HeaderName, "Authorization")
                .WithExposedHeaders("Retry-After")
                .SetPreflightMaxAge(ingest.Value.CorsPreflightMaxAge)));
        services.AddIngestApiDocs();
        return builder;
    }

    /// <summary>The edge: exceptions and bare status codes become problem details; CORS for browser senders.</summary>
    public static WebApplication UseIngestEdge(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCors();
        return app;
    }
}
