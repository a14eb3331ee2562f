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
