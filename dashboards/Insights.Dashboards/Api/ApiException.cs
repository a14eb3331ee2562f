namespace Insights.Dashboards.Api;

/// <summary>The query API refused or failed a call: its status and machine-readable <c>reason</c>, shown to people as a short message.</summary>
public class ApiException(int status, string reason, string? detail = null) : Exception($"{status} {reason}: {detail}")
{
    public int Status { get; } = status;

    public string Reason { get; } = reason;

    public string? Detail { get; } = detail;

    /// <summary>What a person can make of it, without the API's internals.</summary>
    public string Explanation => Status switch
    {
        404 => "Not found, or not yours to see.",
        403 => "Your role does not allow this.",
        400 => Detail ?? "The request was not understood.",
        429 => "Too many attempts; wait a minute and try again.",
        _ => "The reports are unavailable right now; try again in a moment.",
    };
}

/// <summary>401: the query API session ended (expired, signed out elsewhere, password changed). The app asks to sign in again.</summary>
public sealed class ApiSignInRequiredException(string reason) : ApiException(401, reason);
