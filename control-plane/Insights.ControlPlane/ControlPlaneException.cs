namespace Insights.ControlPlane;

/// <summary>
/// An operation the control plane refused, with a machine-readable <see cref="Reason"/> the HTTP edge maps once:
/// <c>not_found</c> → 404, <c>conflict</c> → 409, <c>invalid</c> → 400.
/// </summary>
public sealed class ControlPlaneException : Exception
{
    public const string NotFound = "not_found";
    public const string Conflict = "conflict";
    public const string Invalid = "invalid";

    public ControlPlaneException()
    {
        Reason = Invalid;
    }

    public ControlPlaneException(string message)
        : base(message)
    {
        Reason = Invalid;
    }

    public ControlPlaneException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = Invalid;
    }

    public ControlPlaneException(string reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    public string Reason { get; }
}
