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

    public static QueryProblem SiteNotFound() => new(StatusCodes.Status404NotFound, "site_not_found", "Site not found",
        "No site with this id is readable with this key.");

    private static string Name(KeyKind kind) => kind switch
    {
        KeyKind.Write => "write",
        KeyKind.Server => "server",
        _ => "read",
    };

    public static QueryProblem Invalid(IDictionary<string, string[]> errors) => new(StatusCodes.Status400BadRequest, "invalid_parameters",
        "Invalid query parameters", $"Fix: {string.Join(", ", errors.Keys)}.", errors);
}
