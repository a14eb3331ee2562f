using Insights.Dashboards.Api;

namespace Insights.Dashboards.Components.Shared;

/// <summary>
/// What one request (or one interactive circuit) knows about the signed-in person: <c>/v1/me</c>, fetched once and
/// shared by the layout (site and partner switchers) and the page (is this site theirs, may they manage it).
/// </summary>
public sealed class DashboardContext(QueryApiClient api)
{
    private Task<Me>? me;

    public Task<Me> MeAsync(CancellationToken cancellationToken = default) => me ??= api.MeAsync(cancellationToken);
}
