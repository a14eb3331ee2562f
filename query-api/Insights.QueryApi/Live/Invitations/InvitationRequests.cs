using System.ComponentModel;
using Insights.Contracts;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Insights.QueryApi.Accounts;
using Insights.QueryApi.Pipeline;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live.Invitations;

/// <summary>The site's invitation rules, as stored in its settings.</summary>
public sealed record InvitationRulesView([property: Description("The rules, in evaluation order.")] IReadOnlyList<InvitationRule> Rules);

/// <summary>An agent's invitation, recorded.</summary>
public sealed record InvitationSentView(
    [property: Description("The invitation's id: the visitor's page reports shown/accepted/declined with it.")] string InvitationId);

public sealed record InviteBody([property: Description("What the invitation says (1-500 characters).")] string? Message);

public sealed record DismissBody([property: Description("The rule whose suggestion to dismiss for this visit.")] string? Rule);

public sealed record GetInvitationRules(string Site, PresentedKey Key) : TenantRequest<GetInvitationRules>(Key), IQuery<QueryOutcome<InvitationRulesView>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

/// <summary>
/// A change of the rules: the whole list (<see cref="All"/>), one rule put under <see cref="RuleId"/>, or one deleted.
/// Stored in the site's settings through the one settings path (<see cref="SiteAdmin.UpdateSettingsAsync"/>), so the
/// site's validation judges it and every service follows the catalog without a restart.
/// </summary>
public sealed record ChangeInvitationRules(
    string Site, PresentedKey Key, List<InvitationRule>? All, string? RuleId, InvitationRule? Rule, bool Delete, QueryProblem? BodyProblem)
    : TenantRequest<ChangeInvitationRules>(Key), ICommand<QueryOutcome<InvitationRulesView>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

/// <summary>An agent invites a present visitor to chat.</summary>
public sealed record InviteVisitor(string Site, PresentedKey Key, string Visitor, string? Message, QueryProblem? BodyProblem)
    : TenantRequest<InviteVisitor>(Key), ICommand<QueryOutcome<InvitationSentView>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.InviteVisitors;
}

/// <summary>An agent dismisses a rule's suggestion on a visitor for this visit.</summary>
public sealed record DismissSuggestion(string Site, PresentedKey Key, string Visitor, string? Rule, QueryProblem? BodyProblem)
    : TenantRequest<DismissSuggestion>(Key), ICommand<QueryOutcome<Done>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.InviteVisitors;
}

public sealed class InvitationRequestHandlers(SiteAdmin sites, PresenceBoard board, InvitationRecorder recorder, IOptions<LiveOptions> live, TimeProvider time)
    : IQueryHandler<GetInvitationRules, QueryOutcome<InvitationRulesView>>,
      ICommandHandler<ChangeInvitationRules, QueryOutcome<InvitationRulesView>>,
      ICommandHandler<InviteVisitor, QueryOutcome<InvitationSentView>>,
      ICommandHandler<DismissSuggestion, QueryOutcome<Done>>
{
    /// <summary>Longest visitor id accepted in a URL (the tracker's ids are far shorter).</summary>
    public const int MaxVisitorIdLength = 128;

    public async ValueTask<QueryOutcome<InvitationRulesView>> Handle(GetInvitationRules request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await sites.GetSettingsAsync(request.Site, cancellationToken) is { } settings
            ? new InvitationRulesView(settings.Invitations)
            : QueryProblem.SiteNotFound();
    }

    public async ValueTask<QueryOutcome<InvitationRulesView>> Handle(ChangeInvitationRules request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BodyProblem is { } problem)
        {
            return problem;
        }

        if (await sites.GetSettingsAsync(request.Site, cancellationToken) is not { } settings)
        {
            return QueryProblem.SiteNotFound();
        }

        var rules = settings.Invitations;
        if (request.All is { } all)
        {
            rules = all;
        }
        else if (request.Delete)
        {
            if (rules.RemoveAll(r => r.Id == request.RuleId) == 0)
            {
                return QueryProblem.NotFound("rule");
            }
        }
        else
        {
            var rule = request.Rule!;
            rule.Id = request.RuleId!;
            var at = rules.FindIndex(r => r.Id == rule.Id);
            if (at >= 0)
            {
                rules[at] = rule;
            }
            else
            {
                rules.Add(rule);
            }
        }

        settings.Invitations = rules;

        // The site's one rule set, run here first only to answer each problem under its own field (Invitations:0:Message);
        // the store runs it again before it saves.
        var problems = SiteValidation.Check(settings, "settings").ToList();
        if (problems.Count > 0)
        {
            return QueryProblem.Invalid(problems
                .GroupBy(p => p.Split(": ", 2)[0].Replace("settings:", "", StringComparison.Ordinal), StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Select(p => p.Split(": ", 2)[^1]).ToArray(), StringComparer.Ordinal));
        }

        return await Refusals.MapAsync(async () =>
        {
            await sites.UpdateSettingsAsync(request.Site, settings, request.Granted.Actor, cancellationToken);
            return new InvitationRulesView((await sites.GetSettingsAsync(request.Site, cancellationToken))!.Invitations);
        });
    }

    public async ValueTask<QueryOutcome<InvitationSentView>> Handle(InviteVisitor request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BodyProblem is { } problem)
        {
            return problem;
        }

        if (request.Message is not { Length: > 0 and <= InvitationRuleLimits.MaxMessageLength } message || string.IsNullOrWhiteSpace(message)
            || message.Any(c => char.IsControl(c) && c != '\n'))
        {
            return QueryProblem.Invalid("message", $"1-{InvitationRuleLimits.MaxMessageLength} characters of text (line breaks allowed, no other control characters)");
        }

        if (LiveQueryHandlers.Unavailable(live.Value, board) is { } off)
        {
            return off;
        }

        if (Present(request.Site, request.Visitor) is not { } visitor)
        {
            return QueryProblem.NotFound("visitor");
        }

        var id = "a-" + Guid.NewGuid().ToString("N");
        var sent = InvitationRecorder.Event($"{InvitationEvents.Sent}:{id}", InvitationEvents.Sent, request.Site, visitor, id, null, message, time.GetUtcNow());
        return await recorder.SendAsync(sent, cancellationToken) ? new InvitationSentView(id) : Unavailable();
    }

    public async ValueTask<QueryOutcome<Done>> Handle(DismissSuggestion request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BodyProblem is { } problem)
        {
            return problem;
        }

        if (LiveQueryHandlers.Unavailable(live.Value, board) is { } off)
        {
            return off;
        }

        if (Present(request.Site, request.Visitor) is not { } visitor)
        {
            return QueryProblem.NotFound("visitor");
        }

        var site = board.Site(request.Site);
        string? session;
        lock (site.Gate)
        {
            var memory = site.Visitors.GetValueOrDefault(visitor)?.Invitations;
            if (memory is null || !memory.Suggestions.Exists(s => s.Rule == request.Rule))
            {
                return QueryProblem.NotFound("suggestion");
            }

            session = memory.SessionId;
        }

        // Every agent sees it go, on every instance: the dismissal travels like the visitor's answers.
        var id = InvitationRecorder.DeterministicId("s-", request.Site, visitor, session, request.Rule!);
        var dismissed = InvitationRecorder.Event($"{InvitationEvents.Dismissed}:{id}", InvitationEvents.Dismissed, request.Site, visitor, id, request.Rule, null,
            time.GetUtcNow());
        return await recorder.SendAsync(dismissed, cancellationToken) ? Done.Value : Unavailable();
    }

    /// <summary>The visitor's id when they are on the site now (a made-up or another site's visitor is not).</summary>
    private string? Present(string siteId, string visitor)
    {
        if (visitor.Length is 0 or > MaxVisitorIdLength)
        {
            return null;
        }

        var site = board.Site(siteId);
        lock (site.Gate)
        {
            return site.Visitors.ContainsKey(visitor) ? visitor : null;
        }
    }

    private static QueryProblem Unavailable() => new(StatusCodes.Status503ServiceUnavailable, "invitations_unavailable", "Invitations are unavailable",
        "The invitation could not be recorded (Kafka did not acknowledge it); try again.");
}
