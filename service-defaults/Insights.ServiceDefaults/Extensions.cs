using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Insights.ServiceDefaults;

/// <summary>
/// What every Insights host shares: OpenTelemetry metrics and traces, liveness and readiness checks,
/// structured console logs. A host calls <see cref="AddServiceDefaults{TBuilder}"/> on its builder and
/// <see cref="MapDefaultEndpoints"/> on the built app.
/// </summary>
public static class Extensions
{
    public const string MetricsPath = "/metrics";
    public const string LivenessPath = "/healthz";
    public const string ReadinessPath = "/readyz";

    /// <summary>
    /// OpenTelemetry metrics (scraped at <c>/metrics</c>) and traces, exported over OTLP as well when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; the liveness check; JSON console logs outside Development.
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.ConfigureConsoleLogging();
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        // A deployment that sets OTEL_SERVICE_NAME names the service; otherwise the host's application
        // name (Insights.Ingest, ...) does, rather than OpenTelemetry's "unknown_service".
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName;

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(InsightsTelemetry.Wildcard)
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context => !IsInfrastructure(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddSource(InsightsTelemetry.Wildcard));

        // Pushing to a collector is opt-in per deployment: the endpoint is the switch, and the exporter
        // reads the rest (protocol, headers) from the standard OTEL_EXPORTER_OTLP_* settings.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Logging.AddOpenTelemetry(logging =>
            {
                logging.IncludeScopes = true;
                logging.IncludeFormattedMessage = true;
            });
            telemetry.UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Liveness must not depend on Kafka or ClickHouse: an orchestrator restarts a container whose
        // liveness fails, and a restart cannot fix a broker outage. Dependencies belong to readiness.
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [HealthTags.Live]);
        return builder;
    }

    public static TBuilder ConfigureConsoleLogging<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        // One JSON object per line is what log shippers parse; people reading a terminal want plain text.
        // Logging:Console:FormatterName is bound before this runs, so a configured formatter wins.
        var formatter = builder.Environment.IsDevelopment() ? ConsoleFormatterNames.Simple : ConsoleFormatterNames.Json;
        builder.Services.Configure<ConsoleLoggerOptions>(console => console.FormatterName ??= formatter);

        // Scopes carry the batch and tenant context; UTC lines sort the same across hosts and time zones.
        builder.Services.Configure<JsonConsoleFormatterOptions>(json =>
        {
            json.IncludeScopes = true;
            json.UseUtcTimestamp = true;
            json.TimestampFormat ??= "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        builder.Services.Configure<SimpleConsoleFormatterOptions>(simple =>
        {
            simple.IncludeScopes = true;
            simple.UseUtcTimestamp = true;
            simple.SingleLine = true;
            simple.TimestampFormat ??= "HH:mm:ss.fff ";
        });
        return builder;
    }

    /// <summary>
    /// Maps <c>/metrics</c> (Prometheus text), <c>/healthz</c> (liveness: checks tagged
    /// <see cref="HealthTags.Live"/>) and <c>/readyz</c> (readiness: checks tagged <see cref="HealthTags.Ready"/>);
    /// the health endpoints answer 200 when healthy or degraded and 503 when unhealthy, with a JSON body.
    /// </summary>
    /// <remarks>
    /// They are mapped in every environment because Prometheus and the orchestrator need them in production;
    /// keep them on an internal port or off the public ingress.
    /// </remarks>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.MapPrometheusScrapingEndpoint(MetricsPath).AsInfrastructure();
        app.MapHealthChecks(LivenessPath, HealthEndpoint(HealthTags.Live)).AsInfrastructure();
        app.MapHealthChecks(ReadinessPath, HealthEndpoint(HealthTags.Ready)).AsInfrastructure();
        return app;
    }

    private static HealthCheckOptions HealthEndpoint(string tag) => new()
    {
        Predicate = check => check.Tags.Contains(tag),
        ResponseWriter = HealthResponseWriter.WriteAsync,
    };

    // Probes and scrapers carry no credentials, must never be throttled into a restart, and arrive every few
    // seconds from every replica: counted as requests they would drown the traffic the dashboards are about.
    private static IEndpointConventionBuilder AsInfrastructure(this IEndpointConventionBuilder endpoint) =>
        endpoint.AllowAnonymous().DisableRateLimiting().DisableHttpMetrics();

    private static bool IsInfrastructure(PathString path) =>
        path.StartsWithSegments(MetricsPath) || path.StartsWithSegments(LivenessPath) || path.StartsWithSegments(ReadinessPath);
}
