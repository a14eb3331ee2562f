using Insights.QueryApi.Accounts;
using Insights.QueryApi.Apis;
using Insights.QueryApi.Pipeline;
using Insights.ServiceDefaults;
using Mediator;

namespace Insights.QueryApi.Live.Alerts;

/// <summary>Alert rules and their delivery log: registration and endpoints (signed-in people with the admin role, like site settings).</summary>
public static class AlertEndpoints
{
    public static IServiceCollection AddAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<AlertOptions, AlertOptionsValidator>(configuration, AlertOptions.Section);
        services.AddSingleton<AlertMetrics>();
        services.AddSingleton<AlertQueue>();
        services.AddSingleton<AlertOutbox>();
        services.AddSingleton<AlertSender>();
        services.AddSingleton<IPresenceWatcher, AlertWatcher>();
        if (configuration.GetValue(AlertOptions.Section + ":" + nameof(AlertOptions.Enabled), true))
        {
            services.AddHostedService<AlertClaimer>();
            services.AddHostedService<AlertDeliveryWorker>();
        }

        return services;
    }

    public static IEndpointRouteBuilder MapAlertApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var site = app.MapGroup("/v1/sites/{site}").WithTags("Alerts");
        site.MapGet("/alert-rules", async (string site, HttpContext context, ISender sender) =>
            (await sender.Send(new GetAlertRules(site, ReadKeys.From(context.Request)), context.RequestAborted)).ToHttpResult(context.Response))
            .WithSummary("The site's alert rules (webhook secrets masked)")
            .WithDescription("Rules: target_account (the visitor's company is on the site's target-account list), lead_score (the visit's score " +
                "reached minScore), returning_high_intent (visits ≥ minVisits and a score ≥ minScore, default 50, or a page under one of intentPaths). " +
                "Each fires at most once per visit and goes to its destinations: signed webhooks and Slack incoming webhooks. See docs/alerts.md.");
        site.MapPut("/alert-rules", async (string site, HttpContext context, ISender sender) =>
        {
            var (body, problem) = await JsonBodies.ReadAsync<AlertRulesBody>(context.Request, context.RequestAborted);
            return (await sender.Send(new PutAlertRules(site, ReadKeys.From(context.Request), body, problem), context.RequestAborted)).ToHttpResult(context.Response);
        }).Accepts<AlertRulesBody>("application/json")
            .WithSummary("Replace the site's alert rules")
            .WithDescription("A new webhook destination (or one with rotateSecret) gets a signing secret, returned in this answer only. A destination " +
                "whose id and kind match a stored one keeps its secret, and its URL when url is null. Destinations must be public https " +
                "addresses (400 otherwise) unless Alerts:AllowPrivateAddresses.");
        site.MapGet("/alerts/deliveries", async (string site, string? status, int? limit, HttpContext context, ISender sender) =>
            (await sender.Send(new ListAlertDeliveries(site, ReadKeys.From(context.Request), status, limit ?? 50), context.RequestAborted))
                .ToHttpResult(context.Response))
            .WithSummary("The alert delivery log, newest first (status=pending|delivered|dead, limit ≤ 200)");
        site.MapPost("/alerts/deliveries/{id}/retry", async (string site, string id, HttpContext context, ISender sender) =>
            (await sender.Send(new RetryAlertDelivery(site, ReadKeys.From(context.Request), id), context.RequestAborted)).ToHttpResult(context.Response))
            .WithSummary("Re-queue a dead-lettered delivery with fresh attempts (409 delivery_not_dead otherwise)");
        return app;
    }
}
