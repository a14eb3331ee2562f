using Insights.Contracts;

namespace Insights.QueryApi.Pipeline;

/// <summary>
/// A query's result or the reason it has none. Refusals (bad key, bad parameter) are outcomes, not exceptions:
/// they are expected, carry what the caller must fix, and are turned into HTTP once, by <c>QueryResults</c>.
/// Infrastructure failures (ClickHouse down) stay exceptions and are mapped once by the exception handler.
/// </summary>
public interface IQueryOutcome<out TSelf> where TSelf : IQueryOutcome<TSelf>
{
    QueryProblem? Problem { get; }

    /// <summary>Lets a pipeline behaviour refuse a query without knowing its result type.</summary>
    static abstract TSelf Refused(QueryProblem problem);
}

public sealed record QueryOutcome<T> : IQueryOutcome<QueryOutcome<T>> where T : class
{
    private QueryOutcome(T? value, QueryProblem? problem) => (Value, Problem) = (value, problem);

    public T? Value { get; }

    public QueryProblem? Problem { get; }

    public static QueryOutcome<T> Success(T value) => new(value, null);

    public static QueryOutcome<T> Refused(QueryProblem problem) => new(null, problem);

    public static implicit operator QueryOutcome<T>(T value) => Success(value);

    public static implicit operator QueryOutcome<T>(QueryProblem problem) => Refused(problem);
}

/// <summary>
/// Why a query was refused: an HTTP status, a title, a detail for people and a <see cref="Reason"/> for programs;
/// <see cref="Errors"/> names each invalid parameter.
/// </summary>
public sealed record QueryProblem(int Status, string Reason, string Title, string Detail, IDictionary<string, string[]>? Errors = null)
{
    public static QueryProblem MissingKey() => new(StatusCodes.Status401Unauthorized, "missing_key", "A key is required",
        "Send the site's key (a read key for reports, the server key for a person's data) as 'Authorization: Bearer <key>' or in the 'X-Insights-Key' header.");

    public static QueryProblem SecretKeyInUrl() => new(StatusCodes.Status401Unauthorized, "secret_key_in_url", "A secret key in the URL",
        "Keys in the query string end up in proxy and access logs: send it as 'Authorization: Bearer <key>' or in 'X-Insights-Key', " +
        "and rotate this key, which must now be treated as exposed.");

    public static QueryProblem UnknownKey() => new(StatusCodes.Status401Unauthorized, "unknown_key", "Unknown key",
        "The key is not a key of any site.");

    public static QueryProblem KeyCannotRead(KeyKind kind) => new(StatusCodes.Status403Forbidden, "key_cannot_read", "This key cannot read",
        $"A {Name(kind)} key only sends events; reports need one of the site's read keys.");

    public static QueryProblem ServerKeyRequired(KeyKind kind) => new(StatusCodes.Status403Forbidden, "server_key_required", "A server key is required",
        $"A {Name(kind)} key cannot export or erase a person's data; only the site's server key can.");

    public static QueryProblem WriteKeyRequired(KeyKind? kind) => new(StatusCodes.Status403Forbidden, "write_key_required", "The site's write key is required",
        (kind is { } presented ? $"A {Name(presented)} key cannot" : "Only the site's public write key can") +
        " open a visitor's invitation channel: send the write key (?key=, as the page's tracker does).");

    public static QueryProblem SiteNotFound() => new(StatusCodes.Status404NotFound, "site_not_found", "Site not found",
        "No site with this id is readable with this key.");

    public static QueryProblem SignInRequired() => new(StatusCodes.Status401Unauthorized, "sign_in_required", "Sign-in required",
        "Sign in (session cookie) or send a personal API token as 'Authorization: Bearer ipt_...'; site keys do not manage anything.");

    public static QueryProblem UnknownToken() => new(StatusCodes.Status401Unauthorized, "unknown_token", "Unknown token",
        "The personal API token is unknown, revoked or expired.");

    public static QueryProblem KeyCannotManage() => new(StatusCodes.Status403Forbidden, "key_cannot_manage", "A key cannot do this",
        "Site keys send events and read reports; settings, keys, people and clients are managed by signed-in people.");

    public static QueryProblem RoleInsufficient() => new(StatusCodes.Status403Forbidden, "role_insufficient", "Your role does not allow this",
        "Reports need viewer or more; a person's data, settings, keys, invitations and the audit log need admin or more; transfer needs the owner; " +
        "creating clients and assigning staff need a partner admin.");

    /// <summary>One answer for "does not exist" and "not yours", so ids of other tenants cannot be probed.</summary>
    public static QueryProblem NotFound(string what) => new(StatusCodes.Status404NotFound, $"{what}_not_found", $"No such {what}",
        $"No {what} with this id is visible to you.");

    public static QueryProblem Conflict(string reason, string detail) => new(StatusCodes.Status409Conflict, reason, "Conflict", detail);

    public static QueryProblem Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });

    private static string Name(KeyKind kind) => kind switch
    {
        KeyKind.Write => "write",
        KeyKind.Server => "server",
        _ => "read",
    };

    public static QueryProblem Invalid(IDictionary<string, string[]> errors) => new(StatusCodes.Status400BadRequest, "invalid_parameters",
        "Invalid query parameters", $"Fix: {string.Join(", ", errors.Keys)}.", errors);
}
