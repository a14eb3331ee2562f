using Insights.QueryApi.Accounts;
using Insights.QueryApi.Pipeline;
using Microsoft.Net.Http.Headers;

namespace Insights.QueryApi.Apis;

/// <summary>Where a caller puts its key (a read key for reports, the server key for subject requests):
/// <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Insights-Key</c>. Never the query string, which ends up in proxy and
/// access logs. A signed-in person (session cookie, or a personal API token in the same header) rides along.</summary>
public static class ReadKeys
{
    public const string HeaderName = "X-Insights-Key";
    public const string SchemeName = "ReadKey";
    public const string BearerSchemeName = "Bearer";

    /// <summary>The query-string name ingest accepts for public write keys (sendBeacon); here only recognised, to refuse.</summary>
    public const string QueryName = "key";

    public static PresentedKey From(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var inUrl = request.Query[QueryName] is [{ Length: > 0 } query] ? query : null;
        var person = PersonPrincipal.Of(request.HttpContext.User);
        var authorization = request.Headers[HeaderNames.Authorization].ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            // A personal token that authenticated is the person, not a key; one that did not stays a (refused) key.
            return person is { Actor.Kind: "token" } ? new PresentedKey(null, inUrl, person) : new PresentedKey(authorization["Bearer ".Length..].Trim(), inUrl, person);
        }

        var header = request.Headers[HeaderName].ToString().Trim();
        return new PresentedKey(header.Length > 0 ? header : null, inUrl, person);
    }
}
