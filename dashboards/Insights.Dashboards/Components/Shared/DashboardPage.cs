using Insights.Dashboards.Api;
using Microsoft.AspNetCore.Components;

namespace Insights.Dashboards.Components.Shared;

/// <summary>
/// The base of every signed-in page: loads data from the query API and maps its refusals once — an ended session sends
/// the person to sign in (and back here after), anything else becomes <see cref="Problem"/>, shown in place of the panels.
/// </summary>
public abstract class DashboardPage : ComponentBase, IDisposable
{
    private readonly CancellationTokenSource aborted = new();

    [Inject] protected QueryApiClient Api { get; set; } = default!;

    [Inject] protected DashboardContext Context { get; set; } = default!;

    [Inject] protected NavigationManager Navigation { get; set; } = default!;

    /// <summary>Why the page could not show its data, for people (null: nothing wrong).</summary>
    protected ApiException? Problem { get; private set; }

    protected CancellationToken Aborted => aborted.Token;

    /// <summary>Runs a load; the result, or default after mapping a refusal.</summary>
    protected async Task<T?> LoadAsync<T>(Func<CancellationToken, Task<T>> load)
    {
        ArgumentNullException.ThrowIfNull(load);
        try
        {
            return await load(aborted.Token);
        }
        catch (ApiSignInRequiredException)
        {
            SignInAgain();
        }
        catch (ApiException e)
        {
            Problem = e;
        }

        return default;
    }

    protected void SignInAgain() =>
        Navigation.NavigateTo("/sign-in?expired=1&returnUrl=" + Uri.EscapeDataString("/" + Navigation.ToBaseRelativePath(Navigation.Uri)), forceLoad: true);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            aborted.Cancel();
            aborted.Dispose();
        }
    }
}
