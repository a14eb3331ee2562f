using Insights.ControlPlane;
using Insights.ControlPlane.People;
using Insights.QueryApi.Pipeline;

namespace Insights.QueryApi.Accounts;

/// <summary>
/// A management request about one tenant: goes through the same tenant authorization behaviour as the reports, with
/// its own <see cref="Required"/> permission; the handler receives the <see cref="Grant"/>.
/// </summary>
public abstract record TenantRequest<TSelf>(PresentedKey Key) : IGuardedRequest<TSelf> where TSelf : TenantRequest<TSelf>
{
    public abstract Target Target { get; }

    public abstract Permission Required { get; }

    public Grant? Grant { get; private init; }

    /// <summary>The grant, which exists once the behaviour ran; a handler reached without it is a wiring bug.</summary>
    public Grant Granted => Grant ?? throw new InvalidOperationException($"{typeof(TSelf).Name} reached its handler unauthorized; TenantAuthorizationBehavior must run first.");

    public TSelf Authorized(Grant grant) => (TSelf)(this with { Grant = grant });
}

public sealed record Done
{
    public static Done Value { get; } = new();
}

/// <summary>The control plane's refusals as query problems: the one mapping (404, 409, 400 with the store's reason).</summary>
internal static class Refusals
{
    public static async Task<QueryOutcome<T>> MapAsync<T>(Func<Task<T>> operation) where T : class
    {
        try
        {
            return await operation();
        }
        catch (ControlPlaneException e)
        {
            return e.Reason switch
            {
                ControlPlaneException.NotFound => new QueryProblem(StatusCodes.Status404NotFound, "not_found", "Not found", e.Message),
                ControlPlaneException.Conflict => QueryProblem.Conflict("conflict", e.Message),
                _ => QueryProblem.Invalid(e.Message.Split(':')[0], e.Message),
            };
        }
        catch (PeopleOperationException e)
        {
            var title = e.Status switch
            {
                StatusCodes.Status404NotFound => "Not found",
                StatusCodes.Status403Forbidden => "Your role does not allow this",
                _ => "Conflict",
            };
            return new QueryProblem(e.Status, e.Reason, title, e.Message);
        }
    }
}
