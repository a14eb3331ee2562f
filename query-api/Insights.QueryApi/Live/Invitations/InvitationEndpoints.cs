using System.ComponentModel;
using System.Text.Json;
using Insights.Contracts;
using Insights.QueryApi.Accounts;
using Insights.QueryApi.Apis;
using Insights.QueryApi.Pipeline;
using Insights.ServiceDefaults;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Insights.QueryApi.Live.Invitations;

/// <summary>
/// Invitations (issue 10 §4, §6): the rules (site settings, admin and up), agents' invitations and dismissals (agent and
/// up), and the funnel report (read key or viewer, like every report). Each request goes through the mediator, where the
/// one tenant authorization behaviour judges it.
/// </summary>
public static class InvitationEndpoints
{
    /// <summary>Rule lists are bigger than other management bodies: up to 50 rules of up to 32 conditions.</summary>
    public const int MaxRulesBytes = 256 * 1024;

    private static readonly JsonSerializerOptions RulesJson = new(JsonSerializerDefaults.Web) { AllowTrailingCommas = false, MaxDepth = 24 };

    public static IServiceCollection AddInvitations(this IServiceCollection services, IConfiguration configuration, bool live)
    {
        services.AddValidatedOptions<InvitationOptions>(configuration, InvitationOptions.Section);
        services.AddSingleton<InvitationRecorder>();
        services.AddSingleton<InvitationWatcher>();
        services.AddSingleton<IPresenceWatcher>(provider => provider.GetRequiredService<InvitationWatcher>());
        services.AddSingleton<InvitationFunnelStore>();
        if (live)
        {
            services.AddHostedService<InvitationWorker>();
        }

        return services;
    }

    /// <summary>The funnel, in the reports group (read key or signed-in viewer).</summary>
    public static RouteGroupBuilder MapInvitationFunnel(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/invitations/funnel", GetFunnel)
            .WithTags("Invitations")
            .WithName("GetInvitationFunnel")
            .WithSummary("Invitation funnel: sent → shown → accepted → chat → goal → orders and revenue, per rule")
            .WithDescription(
                "Invitations sent in [from, to) by each rule and by agents ('agent'), each counted once however many instances " +
                "recorded it: shown and accepted as the visitor's page reported them, declined, then for accepted ones the visitor's chats " +
                "started after accepting within the visit, and goal completions, orders and net revenue (reporting currency) within the " +
                "site's attribution window after accepting.");
        return api;
    }

    /// <summary>Rules and agents' actions: people and management, not read keys.</summary>
    public static IEndpointRouteBuilder MapInvitationApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var site = app.MapGroup("/v1/sites/{site}").WithTags("Invitations")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        site.MapGet("/invitation-rules", (string site, HttpContext context, ISender sender) =>
                Answer(sender.Send(new GetInvitationRules(site, ReadKeys.From(context.Request)), context.RequestAborted), context))
            .WithSummary("The site's invitation rules (admin and up)")
            .Produces<InvitationRulesView>();
        site.MapPut("/invitation-rules", async (string site, HttpContext context, ISender sender) =>
            {
                var (rules, problem) = await JsonBodies.ReadAsync<List<InvitationRule>>(context.Request, MaxRulesBytes, RulesJson, context.RequestAborted);
                return await Answer(sender.Send(new ChangeInvitationRules(site, ReadKeys.From(context.Request), rules, null, null, false, problem), context.RequestAborted), context);
            })
            .Accepts<List<InvitationRule>>("application/json")
            .WithSummary("Replace the site's invitation rules (admin and up)")
            .WithDescription(Rules)
            .Produces<InvitationRulesView>()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        site.MapPut("/invitation-rules/{rule}", async (string site, string rule, HttpContext context, ISender sender) =>
            {
                var (body, problem) = await JsonBodies.ReadAsync<InvitationRule>(context.Request, MaxRulesBytes, RulesJson, context.RequestAborted);
                return await Answer(sender.Send(new ChangeInvitationRules(site, ReadKeys.From(context.Request), null, rule, body, false, problem), context.RequestAborted), context);
            })
            .Accepts<InvitationRule>("application/json")
            .WithSummary("Add or replace one invitation rule (the URL's id wins over the body's)")
            .WithDescription(Rules)
            .Produces<InvitationRulesView>()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        site.MapDelete("/invitation-rules/{rule}", (string site, string rule, HttpContext context, ISender sender) =>
                Answer(sender.Send(new ChangeInvitationRules(site, ReadKeys.From(context.Request), null, rule, null, true, null), context.RequestAborted), context))
            .WithSummary("Delete one invitation rule (its funnel history stays)")
            .Produces<InvitationRulesView>();

        site.MapPost("/live/visitors/{visitor}/invite", async (string site, string visitor, HttpContext context, ISender sender) =>
            {
                var (body, problem) = await JsonBodies.ReadAsync<InviteBody>(context.Request, context.RequestAborted);
                return await Answer(sender.Send(new InviteVisitor(site, ReadKeys.From(context.Request), visitor, body?.Message, problem), context.RequestAborted),
                    context, StatusCodes.Status202Accepted);
            })
            .Accepts<InviteBody>("application/json")
            .WithSummary("Invite a present visitor to chat (agent and up)")
            .WithDescription(
                "Records an 'invitation_sent' event through Kafka, so the invitation is stored, counted in the funnel (rule 'agent') and " +
                "reaches the visitor's page on whichever instance it is connected to; every instance's stream shows 'invitation_sent' and " +
                "the visitor's chat state 'invited'. 404 visitor_not_found when the visitor is not on the site now; 503 when Kafka did not " +
                "acknowledge.")
            .Produces<InvitationSentView>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        site.MapPost("/live/visitors/{visitor}/dismiss", async (string site, string visitor, HttpContext context, ISender sender) =>
            {
                var (body, problem) = await JsonBodies.ReadAsync<DismissBody>(context.Request, context.RequestAborted);
                return await Answer(sender.Send(new DismissSuggestion(site, ReadKeys.From(context.Request), visitor, body?.Rule, problem), context.RequestAborted), context);
            })
            .Accepts<DismissBody>("application/json")
            .WithSummary("Dismiss a rule's suggestion on a visitor for this visit (agent and up)")
            .WithDescription("Every instance drops the suggestion ('invitation_dismissed' on the stream); the rule does not suggest the visitor again this visit.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    public static async Task<Results<Ok<InvitationFunnelResponse>, ValidationProblem, ProblemHttpResult>> GetFunnel(
        [AsParameters] FunnelParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        var outcome = await sender.Send(new InvitationFunnelQuery(parameters.Site, ReadKeys.From(context.Request), parameters.From, parameters.To),
            context.RequestAborted);
        return outcome.ToHttpResult(context.Response);
    }

    private const string Rules =
        "A rule: {id, name, enabled, action: suggest|auto_invite, message (auto_invite, ≤ 500 characters), when, activeFrom, activeUntil, " +
        "declineCooldownDays (default 7)}. 'when' is a tree: {all: [...]} (AND), {any: [...]} (OR), or a condition {kind, ...}: " +
        "time_on_site / time_on_page {min seconds}, current_url / visited_url / referrer {pattern}, url_funnel {patterns (in order)}, " +
        "pages_viewed / visits / lead_score {min}, channel / campaign / search_keyword / country / city / device {values}, " +
        "company_identified, target_account, exit_intent, property {property, values}. At most 50 rules, 32 conditions per rule, " +
        "groups 4 deep. A refused list answers 400 with every problem; nothing is stored.";

    private static async Task<IResult> Answer<T>(ValueTask<QueryOutcome<T>> pending, HttpContext context, int status = StatusCodes.Status200OK) where T : class
    {
        var outcome = await pending;
        return outcome.Value is Done ? TypedResults.NoContent()
            : outcome.ToHttpResult(context.Response, value => TypedResults.Json(value, statusCode: status)).Result;
    }
}

public sealed record FunnelParameters(
    [property: FromRoute(Name = "site"), Description("Site id.")] string Site,
    [property: FromQuery(Name = "from"), Description("Start (inclusive): ISO date or datetime. Default: 'to' minus 7 days.")] string? From,
    [property: FromQuery(Name = "to"), Description("End (exclusive). Default: the end of today in the site's time zone.")] string? To);
