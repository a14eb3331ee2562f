using Insights.Dashboards.Api;

namespace Insights.Dashboards.Components.Shared;

/// <summary>
/// A panel whose endpoint an older query API may not have yet (the orders list): its 404 leaves the panel out instead
/// of failing the page; with <c>forbiddenToo</c>, a 403 too (a list the person's role may not read, such as an
/// organisation's people for a site-only admin). Every other refusal still reaches <see cref="DashboardPage"/>'s one mapping.
/// </summary>
public static class Optional
{
    public static async Task<T?> OrNullAsync<T>(Func<Task<T>> load, bool forbiddenToo = false) where T : class
    {
        ArgumentNullException.ThrowIfNull(load);
        try
        {
            return await load();
        }
        catch (ApiException e) when (e is not ApiSignInRequiredException && (e.Status is 404 or 405 || (forbiddenToo && e.Status == 403)))
        {
            return null;
        }
    }
}
