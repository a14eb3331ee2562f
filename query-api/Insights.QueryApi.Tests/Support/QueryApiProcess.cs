using Insights.DevStack.Testing;

namespace Insights.QueryApi.Tests.Support;

/// <summary>
/// The query API as operators run it, a process with its settings in the environment (environment "Testing"): for
/// start-up failures, which an in-memory host reports unreliably (the entry point disposes the services while the
/// factory still reads them, which sometimes hides the message behind an ObjectDisposedException).
/// </summary>
public static class QueryApiProcess
{
    /// <summary>Starts the query API with these settings and waits for it to exit: its exit code and everything it printed.</summary>
    public static async Task<(int Exit, string Output)> RunUntilExitAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var start = TestProcessStart.Dotnet("Insights.QueryApi", "--urls", "http://127.0.0.1:0");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["DOTNET_ENVIRONMENT"] = "Testing";
        start.Environment["Live__Enabled"] = "false";
        start.Environment[TestDataDirectories.Setting.Replace(":", "__", StringComparison.Ordinal)] = TestDataDirectories.New();
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        await using var api = TestProcess.Start(start);
        var exit = await api.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, api.Output);
    }
}
