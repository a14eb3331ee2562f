using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.Processors.Tests;

/// <summary>
/// The processor as operators run it, <c>dotnet Insights.Processors.dll</c>, configured through environment
/// variables; for tests that must kill the process or watch its exit code.
/// </summary>
internal static partial class ProcessorProcess
{
    /// <summary>Starts the processor with these settings (configuration keys, <c>Section:Key</c>) on a free port.</summary>
    public static TestProcess Start(IReadOnlyDictionary<string, string?> settings)
    {
        var start = TestProcessStart.Dotnet("Insights.Processors");
        start.Environment["URLS"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment[TestDataDirectories.Setting.Replace(":", "__", StringComparison.Ordinal)] = TestDataDirectories.New();
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return TestProcess.Start(start);
    }

    /// <summary>The address the processor listens on (metrics, health), from its start-up log line.</summary>
    public static async Task<Uri> WaitForAddressAsync(this TestProcess processor, TimeSpan timeout)
    {
        var line = await processor.WaitForLineAsync(ListeningOn(), timeout);
        return new Uri(ListeningOn().Match(line).Groups[1].Value);
    }

    [GeneratedRegex(@"Now listening on: (http://[^\s]+)")]
    private static partial Regex ListeningOn();
}
