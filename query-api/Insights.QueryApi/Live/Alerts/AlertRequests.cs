using System.ComponentModel;
using Insights.Contracts;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.ControlPlane.Store;
using Insights.QueryApi.Accounts;
using Insights.QueryApi.Pipeline;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live.Alerts;

public sealed record AlertDestinationView(
    string Id,
    [property: Description("webhook or slack.")] string Kind,
    [property: Description("The receiver. A Slack URL is itself a secret: shown shortened; send null (or leave it out) to keep it.")] string Url,
    [property: Description("Webhooks: the signing secret's first and last characters.")] string? SecretHint,
    [property: Description("Webhooks: the signing secret, only in the answer that created or rotated it — store it now.")] string? Secret);

public sealed record AlertRuleView(string Id, string Name, string Kind, bool Enabled, int? MinScore, int MinVisits, IReadOnlyList<string> IntentPaths,
    IReadOnlyList<AlertDestinationView> Destinations);

public sealed record AlertRulesView(string Site, IReadOnlyList<AlertRuleView> Rules);

/// <param name="Id">Keeps the stored destination's secret (and, when <paramref name="Url"/> is null, its URL) when it names one of the same kind.</param>
/// <param name="RotateSecret">Webhooks: replace the signing secret (the new one is in the answer, once).</param>
public sealed record AlertDestinationInput(string? Id, string? Kind, string? Url, bool RotateSecret = false);

public sealed record AlertRuleInput(string? Id, string? Name, string? Kind, bool? Enabled, int? MinScore, int? MinVisits, List<string>? IntentPaths,
    List<AlertDestinationInput>? Destinations);

/// <summary>The whole rule list: it replaces the stored one.</summary>
public sealed record AlertRulesBody(List<AlertRuleInput>? Rules);

public sealed record AlertDeliveryView(Guid Id, string AlertId, string RuleId, string DestinationId, string DestinationKind,
    [property: Description("pending, delivered or dead.")] string Status, int Attempts,
    [property: Description("Pending: when the next attempt is due.")] DateTimeOffset NextAttemptAt, DateTimeOffset CreatedAt,
    DateTimeOffset? LastAttemptAt, DateTimeOffset? DeliveredAt,
    [property: Description("The receiver's last HTTP status; null when it did not answer.")] int? LastStatusCode,
    [property: Description("Why the last attempt failed (the start of the receiver's answer, or the error).")] string? LastError);

public sealed record AlertDeliveriesView(string Site, IReadOnlyList<AlertDeliveryView> Deliveries);

public sealed record GetAlertRules(string Site, PresentedKey Key) : TenantRequest<GetAlertRules>(Key), IQuery<QueryOutcome<AlertRulesView>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

public sealed record PutAlertRules(string Site, PresentedKey Key, AlertRulesBody? Body, QueryProblem? BodyProblem)
    : TenantRequest<PutAlertRules>(Key), ICommand<QueryOutcome<AlertRulesView>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

public sealed record ListAlertDeliveries(string Site, PresentedKey Key, string? Status, int Limit)
    : TenantRequest<ListAlertDeliveries>(Key), IQuery<QueryOutcome<AlertDeliveriesView>>
{
    public const int MaxLimit = 200;

    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

public sealed record RetryAlertDelivery(string Site, PresentedKey Key, string DeliveryId)
    : TenantRequest<RetryAlertDelivery>(Key), ICommand<QueryOutcome<AlertDeliveryView>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

/// <summary>
/// A site's alert rules and delivery log. Rules are a site setting written through <see cref="SiteAdmin"/> (one
/// validation, one audit entry, one catalog version); secrets are generated here, shown once and masked after.
/// </summary>
public sealed class AlertRequestHandlers(SiteAdmin sites, AlertOutbox outbox, AlertQueue queue, IOptions<AlertOptions> options)
    : IQueryHandler<GetAlertRules, QueryOutcome<AlertRulesView>>,
      ICommandHandler<PutAlertRules, QueryOutcome<AlertRulesView>>,
      IQueryHandler<ListAlertDeliveries, QueryOutcome<AlertDeliveriesView>>,
      ICommandHandler<RetryAlertDelivery, QueryOutcome<AlertDeliveryView>>
{
    /// <summary>Signing secrets start so, telling them from site keys and tokens in a leak report.</summary>
    public const string SecretPrefix = "iws_";

    public async ValueTask<QueryOutcome<AlertRulesView>> Handle(GetAlertRules request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await sites.GetSettingsAsync(request.Site, cancellationToken) is { } settings
            ? View(request.Site, settings.Alerts, shown: new HashSet<AlertDestination>())
            : QueryProblem.SiteNotFound();
    }

    public async ValueTask<QueryOutcome<AlertRulesView>> Handle(PutAlertRules request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BodyProblem is { } problem)
        {
            return problem;
        }

        if (request.Body?.Rules is not { } inputs)
        {
            return QueryProblem.Invalid("rules", "the list of rules is required (an empty list removes every rule)");
        }

        if (inputs.Count > AlertKinds.MaxRules || inputs.Any(r => r?.Destinations?.Count > AlertKinds.MaxDestinations))
        {
            return QueryProblem.Invalid("rules", $"at most {AlertKinds.MaxRules} rules of at most {AlertKinds.MaxDestinations} destinations each");
        }

        if (await sites.GetSettingsAsync(request.Site, cancellationToken) is not { } settings)
        {
            return QueryProblem.SiteNotFound();
        }

        var shown = new HashSet<AlertDestination>(ReferenceEqualityComparer.Instance);
        var changedUrls = new List<(string Field, string Url)>();
        var rules = new List<AlertRule>();
        for (var r = 0; r < inputs.Count; r++)
        {
            var input = inputs[r];
            if (input is null)
            {
                return QueryProblem.Invalid($"rules[{r}]", "a rule object is required");
            }

            var stored = settings.Alerts.Find(s => s.Id == input.Id);
            var rule = new AlertRule
            {
                Id = input.Id ?? "", Name = input.Name ?? "", Kind = input.Kind ?? "", Enabled = input.Enabled ?? true, MinScore = input.MinScore,
                MinVisits = input.MinVisits ?? 2, IntentPaths = input.IntentPaths ?? [],
            };
            var destinations = input.Destinations ?? [];
            for (var d = 0; d < destinations.Count; d++)
            {
                if (destinations[d] is not { } given)
                {
                    return QueryProblem.Invalid($"rules[{r}].destinations[{d}]", "a destination object is required");
                }

                var before = stored?.Destinations.Find(x => x.Id == given.Id && x.Kind == given.Kind);
                var destination = new AlertDestination { Id = given.Id ?? "", Kind = given.Kind ?? "", Url = given.Url ?? before?.Url ?? "" };
                if (destination.Kind == AlertKinds.Webhook)
                {
                    destination.Secret = before?.Secret is { } kept && !given.RotateSecret ? kept : Secrets.New(SecretPrefix);
                    if (!ReferenceEquals(destination.Secret, before?.Secret))
                    {
                        shown.Add(destination);
                    }
                }

                if (destination.Url != before?.Url)
                {
                    changedUrls.Add(($"rules[{r}].destinations[{d}].url", destination.Url));
                }

                rule.Destinations.Add(destination);
            }

            rules.Add(rule);
        }

        var refusals = await Task.WhenAll(changedUrls.Select(async c => (c.Field, Problem: await AlertAddresses.ProblemAsync(c.Url, options.Value.AllowPrivateAddresses, cancellationToken))));
        if (refusals.Where(c => c.Problem is not null).ToDictionary(c => c.Field, c => new[] { c.Problem! }, StringComparer.Ordinal) is { Count: > 0 } errors)
        {
            return QueryProblem.Invalid(errors);
        }

        settings.Alerts = rules;
        return await Refusals.MapAsync(async () =>
        {
            await sites.UpdateSettingsAsync(request.Site, settings, request.Granted.Actor, cancellationToken);
            return View(request.Site, rules, shown);
        });
    }

    public async ValueTask<QueryOutcome<AlertDeliveriesView>> Handle(ListAlertDeliveries request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        AlertDeliveryStatus? status = request.Status switch
        {
            null or "" => null,
            "pending" => AlertDeliveryStatus.Pending,
            "delivered" => AlertDeliveryStatus.Delivered,
            "dead" => AlertDeliveryStatus.Dead,
            _ => (AlertDeliveryStatus)(-1),
        };
        if (status == (AlertDeliveryStatus)(-1))
        {
            return QueryProblem.Invalid("status", "one of pending, delivered, dead");
        }

        var rows = await outbox.ListAsync(request.Site, status, Math.Clamp(request.Limit, 1, ListAlertDeliveries.MaxLimit), cancellationToken);
        return new AlertDeliveriesView(request.Site, [.. rows.Select(View)]);
    }

    public async ValueTask<QueryOutcome<AlertDeliveryView>> Handle(RetryAlertDelivery request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Guid.TryParse(request.DeliveryId, out var id))
        {
            return QueryProblem.NotFound("delivery");
        }

        var (row, requeued) = await outbox.RequeueAsync(request.Site, id, cancellationToken);
        if (row is null)
        {
            return QueryProblem.NotFound("delivery");
        }

        if (!requeued)
        {
            return QueryProblem.Conflict("delivery_not_dead", $"Only a dead-lettered delivery can be retried; this one is {Name(row.Status)}.");
        }

        queue.Wake();
        return View(row);
    }

    private static AlertRulesView View(string site, IReadOnlyList<AlertRule> rules, IReadOnlySet<AlertDestination> shown) =>
        new(site, [.. rules.Select(r => new AlertRuleView(r.Id, r.Name, r.Kind, r.Enabled, r.MinScore, r.MinVisits, r.IntentPaths,
            [.. r.Destinations.Select(d => new AlertDestinationView(d.Id, d.Kind, d.Kind == AlertKinds.Slack ? MaskUrl(d.Url) : d.Url,
                d.Secret is { } s ? KeyHint.Of(s) : null, shown.Contains(d) ? d.Secret : null))]))]);

    /// <summary>A Slack webhook URL is a bearer secret: its scheme, host and last four characters.</summary>
    internal static string MaskUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && url.Length > 12 ? $"{uri.Scheme}://{uri.Authority}/…{url[^4..]}" : "…";

    private static AlertDeliveryView View(AlertDelivery d) => new(d.Id, d.AlertId, d.RuleId, d.DestinationId, d.DestinationKind, Name(d.Status),
        d.Attempts, d.NextAttemptAt, d.CreatedAt, d.LastAttemptAt, d.DeliveredAt, d.LastStatusCode, d.LastError);

    private static string Name(AlertDeliveryStatus status) => status.ToString().ToLowerInvariant();
}
