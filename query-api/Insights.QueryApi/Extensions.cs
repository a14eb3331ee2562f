using System.Text.Json.Serialization;
using ClickHouse.Driver;
using Insights.QueryApi.Apis;
using Insights.QueryApi.Pipeline;
using Insights.ControlPlane;
using Insights.Contracts;
using Insights.QueryApi.Stats;
using Insights.QueryApi.Storage;
using Insights.ServiceDefaults;
using Insights.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace Insights.QueryApi;

public static class Extensions
{
    /// <summary>Options, sites, ClickHouse, the mediator pipeline, readiness, problem details and OpenAPI.</summary>
    public static IHostApplicationBuilder AddQueryApiServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        services.AddValidatedOptions<QueryApiOptions>(builder.Configuration, QueryApiOptions.Section);
        services.AddValidatedOptions<ClickHouseStorageOptions>(builder.Configuration, "ClickHouse");
        services.AddControlPlane(builder.Configuration); // sites and keys: the live SiteCatalog, seeded from section Sites
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<QueryApiMetrics>();

        // One client for the process: it is thread-safe and pools its HTTP connections. No migrations here: the
        // processors own the schema, and the readiness check and 503s say so while it is missing.
        services.AddSingleton(provider => new ClickHouseClient(provider.GetRequiredService<IOptions<ClickHouseStorageOptions>>().Value.ConnectionString));
        services.AddSingleton<ReportsDatabase>();
        services.AddSingleton<StatsStore>();
        Sales.RevenueReports.AddRevenueReports(services);
        Companies.CompanyEndpoints.AddCompanyReports(services, builder.Configuration);
        Visitors.VisitorEndpoints.AddVisitorReports(services);
        Subjects.SubjectEndpoints.AddSubjectRequests(services, builder.Configuration);
        Partners.PartnerEndpoints.AddPartnerRollups(services, builder.Configuration);
        Live.LiveEndpoints.AddLivePresence(services, builder.Configuration);
        Live.Alerts.AlertEndpoints.AddAlerts(services, builder.Configuration);

        // Order matters: metrics outermost so refusals are timed too, then the tenant check before any handler.
        services.AddMediator(options =>
        {
            options.ServiceLifetime = ServiceLifetime.Singleton;
            options.PipelineBehaviors = [typeof(QueryMetricsBehavior<,>), typeof(TenantAuthorizationBehavior<,>)];
        });

        // A ClickHouse that accepts connections and never answers must fail readiness, not hang the probe.
        services.AddHealthChecks().AddCheck<ClickHouseReadinessCheck>("clickhouse", tags: [HealthTags.Ready], timeout: TimeSpan.FromSeconds(5));

        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions.TryAdd("traceId", context.HttpContext.TraceIdentifier));
        services.AddExceptionHandler<StorageUnavailableHandler>();
        services.AddOpenApi(options => options.AddReadKeySecurity());

        // Numbers are numbers: the web default also reads "12" as 12, which the OpenAPI schema then has to allow.
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);
        return builder;
    }

    /// <summary>RFC 7807 problem details for every error: exceptions (503 for ClickHouse, 500 otherwise) and bare status codes.</summary>
    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and its interactive reference at <c>/docs</c>.</summary>
    public static WebApplication MapApiReference(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapOpenApi();
        app.MapScalarApiReference("/docs", options => options
            .WithTitle("Insights query API")
            .AddPreferredSecuritySchemes(ReadKeys.BearerSchemeName)
            // Self-hosted and often offline: nothing on the page may call out (fonts, telemetry, the AI agent).
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent()
            .HideDeveloperTools());
        return app;
    }
}
