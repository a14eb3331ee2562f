using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Insights.Dashboards.Api;

/// <summary>
/// The typed calls of the Revenue, Goals and Settings pages, on the one client (<see cref="QueryApiClient"/>): same
/// session forwarding, same CSRF handling, same error mapping.
/// </summary>
public static class RevenueCalls
{
    public static Task<SalesReport> SalesAsync(this QueryApiClient api, string site, IEnumerable<KeyValuePair<string, string?>> query, CancellationToken cancellationToken) =>
        api.GetAsync<SalesReport>(QueryApiClient.WithQuery(QueryApiClient.Path("/v1/sites/{0}/sales", site), query), cancellationToken);

    public static Task<GoalsReport> GoalsAsync(this QueryApiClient api, string site, IEnumerable<KeyValuePair<string, string?>> query, CancellationToken cancellationToken) =>
        api.GetAsync<GoalsReport>(QueryApiClient.WithQuery(QueryApiClient.Path("/v1/sites/{0}/goals", site), query), cancellationToken);

    public static Task<OrderList> OrdersAsync(this QueryApiClient api, string site, IEnumerable<KeyValuePair<string, string?>> query, CancellationToken cancellationToken) =>
        api.GetAsync<OrderList>(QueryApiClient.WithQuery(QueryApiClient.Path("/v1/sites/{0}/orders", site), query), cancellationToken);

    public static Task<OrderPath> OrderAsync(this QueryApiClient api, string site, string order, string? model, CancellationToken cancellationToken) =>
        api.GetAsync<OrderPath>(QueryApiClient.WithQuery(QueryApiClient.Path("/v1/sites/{0}/orders/{1}", site, order), [new("model", model)]), cancellationToken);

    // ---- settings ----

    public static Task<SiteSettings> SettingsAsync(this QueryApiClient api, string site, CancellationToken cancellationToken) =>
        api.GetAsync<SiteSettings>(QueryApiClient.Path("/v1/sites/{0}/settings", site), cancellationToken);

    /// <summary>Changes only the given top-level settings (the API replaces those and keeps the rest).</summary>
    public static Task<JsonElement?> PatchSettingsAsync(this QueryApiClient api, string site, IReadOnlyDictionary<string, object?> changes, CancellationToken cancellationToken) =>
        api.SendAsync(HttpMethod.Patch, QueryApiClient.Path("/v1/sites/{0}/settings", site), changes, cancellationToken);

    public static Task<IReadOnlyList<SiteKey>> KeysAsync(this QueryApiClient api, string site, CancellationToken cancellationToken) =>
        api.GetAsync<IReadOnlyList<SiteKey>>(QueryApiClient.Path("/v1/sites/{0}/keys", site), cancellationToken);

    public static async Task<IssuedKey> IssueKeyAsync(this QueryApiClient api, string site, string kind, string label, CancellationToken cancellationToken) =>
        Read<IssuedKey>(await api.SendAsync(HttpMethod.Post, QueryApiClient.Path("/v1/sites/{0}/keys", site), new { kind, label }, cancellationToken));

    public static async Task<IssuedKey> RotateKeyAsync(this QueryApiClient api, string site, string key, int? graceMinutes, CancellationToken cancellationToken) =>
        Read<IssuedKey>(await api.SendAsync(HttpMethod.Post, QueryApiClient.Path("/v1/sites/{0}/keys/{1}/rotate", site, key), new { graceMinutes }, cancellationToken));

    public static Task<JsonElement?> RevokeKeyAsync(this QueryApiClient api, string site, string key, CancellationToken cancellationToken) =>
        api.SendAsync(HttpMethod.Delete, QueryApiClient.Path("/v1/sites/{0}/keys/{1}", site, key), null, cancellationToken);

    public static Task<OrganisationPeople> PeopleAsync(this QueryApiClient api, Guid organisation, CancellationToken cancellationToken) =>
        api.GetAsync<OrganisationPeople>(QueryApiClient.Path("/v1/organisations/{0}/people", organisation.ToString("D", CultureInfo.InvariantCulture)), cancellationToken);

    /// <summary>Invites at the site (admin, agent, viewer) or, for <c>organisation</c>, at its organisation (owner too).</summary>
    public static async Task<SentInvitation> InviteAsync(this QueryApiClient api, string site, Guid organisation, bool atOrganisation, string email, string role, CancellationToken cancellationToken) =>
        Read<SentInvitation>(await api.SendAsync(HttpMethod.Post, atOrganisation
            ? QueryApiClient.Path("/v1/organisations/{0}/invitations", organisation.ToString("D", CultureInfo.InvariantCulture))
            : QueryApiClient.Path("/v1/sites/{0}/invitations", site), new { email, role }, cancellationToken));

    public static Task<JsonElement?> RevokeInvitationAsync(this QueryApiClient api, Guid organisation, Guid invitation, CancellationToken cancellationToken) =>
        api.SendAsync(HttpMethod.Delete, QueryApiClient.Path("/v1/organisations/{0}/invitations/{1}",
            organisation.ToString("D", CultureInfo.InvariantCulture), invitation.ToString("D", CultureInfo.InvariantCulture)), null, cancellationToken);

    public static Task<JsonElement?> RemoveMemberAsync(this QueryApiClient api, string scope, string scopeId, Guid person, CancellationToken cancellationToken) =>
        api.SendAsync(HttpMethod.Delete, scope == "site"
            ? QueryApiClient.Path("/v1/sites/{0}/people/{1}", scopeId, person.ToString("D", CultureInfo.InvariantCulture))
            : QueryApiClient.Path("/v1/organisations/{0}/people/{1}", scopeId, person.ToString("D", CultureInfo.InvariantCulture)), null, cancellationToken);

    private static T Read<T>(JsonElement? json) =>
        json is { } j ? j.Deserialize<T>(QueryApiClient.Json) ?? throw new ApiException(502, "empty_response") : throw new ApiException(502, "empty_response");
}
