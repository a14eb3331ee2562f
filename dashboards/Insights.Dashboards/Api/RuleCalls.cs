using System.Text.Json;

namespace Insights.Dashboards.Api;

/// <summary>
/// The Settings page's invitation-rule calls (docs/live.md §4) on the one client: same session forwarding, CSRF
/// handling and error mapping as every other change.
/// </summary>
public static class RuleCalls
{
    public static Task<InvitationRuleList> InvitationRulesAsync(this QueryApiClient api, string site, CancellationToken cancellationToken) =>
        api.GetAsync<InvitationRuleList>(QueryApiClient.Path("/v1/sites/{0}/invitation-rules", site), cancellationToken);

    /// <summary>Adds or replaces one rule (the URL's id wins); the API checks it and answers 400 per field.</summary>
    public static Task<JsonElement?> PutInvitationRuleAsync(this QueryApiClient api, string site, InvitationRule rule, CancellationToken cancellationToken) =>
        api.SendAsync(HttpMethod.Put, QueryApiClient.Path("/v1/sites/{0}/invitation-rules/{1}", site, rule.Id), rule, cancellationToken);

    public static Task<JsonElement?> DeleteInvitationRuleAsync(this QueryApiClient api, string site, string rule, CancellationToken cancellationToken) =>
        api.SendAsync(HttpMethod.Delete, QueryApiClient.Path("/v1/sites/{0}/invitation-rules/{1}", site, rule), null, cancellationToken);
}

public sealed record InvitationRuleList(IReadOnlyList<InvitationRule> Rules);

/// <summary>One invitation rule as the API sends and takes it; <c>When</c> kept as JSON (a tree of all/any/conditions).</summary>
public sealed record InvitationRule(
    string Id,
    string? Name,
    bool Enabled,
    string Action,
    string? Message,
    JsonElement? When,
    DateTimeOffset? ActiveFrom,
    DateTimeOffset? ActiveUntil,
    int DeclineCooldownDays = 7);

/// <summary>The Settings page's alert-rule calls (docs/alerts.md): the whole list is read and replaced at once.</summary>
public static class AlertCalls
{
    public static Task<AlertRuleList> AlertRulesAsync(this QueryApiClient api, string site, CancellationToken cancellationToken) =>
        api.GetAsync<AlertRuleList>(QueryApiClient.Path("/v1/sites/{0}/alert-rules", site), cancellationToken);

    /// <summary>Replaces the list; the answer carries a webhook's signing secret once, when created or rotated.</summary>
    public static async Task<AlertRuleList?> PutAlertRulesAsync(this QueryApiClient api, string site, IReadOnlyList<AlertRuleInput> rules, CancellationToken cancellationToken) =>
        (await api.SendAsync(HttpMethod.Put, QueryApiClient.Path("/v1/sites/{0}/alert-rules", site), new { rules }, cancellationToken))
            ?.Deserialize<AlertRuleList>(QueryApiClient.Json);

    public static Task<AlertDeliveryList> AlertDeliveriesAsync(this QueryApiClient api, string site, CancellationToken cancellationToken) =>
        api.GetAsync<AlertDeliveryList>(QueryApiClient.Path("/v1/sites/{0}/alerts/deliveries", site) + "?limit=20", cancellationToken);

    public static Task<JsonElement?> RetryAlertDeliveryAsync(this QueryApiClient api, string site, string delivery, CancellationToken cancellationToken) =>
        api.SendAsync(HttpMethod.Post, QueryApiClient.Path("/v1/sites/{0}/alerts/deliveries/{1}/retry", site, delivery), null, cancellationToken);
}

public sealed record AlertRuleList(string? Site, IReadOnlyList<AlertRule> Rules);

public sealed record AlertRule(string Id, string? Name, string Kind, bool Enabled, int? MinScore, int? MinVisits, IReadOnlyList<string>? IntentPaths, IReadOnlyList<AlertDestination> Destinations)
{
    /// <summary>This rule as the PUT takes it, keeping every destination's URL and secret (url null, same id and kind).</summary>
    public AlertRuleInput AsInput(string? rotate = null) => new(Id, Name, Kind, Enabled, MinScore, MinVisits, IntentPaths,
        [.. Destinations.Select(d => new AlertDestinationInput(d.Id, d.Kind, null, d.Id == rotate))]);
}

public sealed record AlertDestination(string Id, string Kind, string? Url, string? SecretHint, string? Secret);

public sealed record AlertRuleInput(string Id, string? Name, string Kind, bool Enabled, int? MinScore, int? MinVisits, IReadOnlyList<string>? IntentPaths, IReadOnlyList<AlertDestinationInput> Destinations);

public sealed record AlertDestinationInput(string Id, string Kind, string? Url, bool RotateSecret = false);

public sealed record AlertDeliveryList(string? Site, IReadOnlyList<AlertDelivery> Deliveries);

public sealed record AlertDelivery(Guid Id, string RuleId, string DestinationKind, string Status, int Attempts, DateTimeOffset CreatedAt, int? LastStatusCode, string? LastError);
