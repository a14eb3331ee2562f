using System.Text.RegularExpressions;
using Insights.ControlPlane.Store;
using Insights.DevStack.Testing;

namespace Insights.ControlPlane.Cli.Tests;

/// <summary>
/// The built <c>insights-admin</c>, run as a process in a fresh directory of its own (its settings' content root, so
/// the default store is <c>data/control-plane.db</c> there), and that directory's store opened for assertions.
/// </summary>
public sealed partial class AdminCli : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("insights-admin-").FullName;

    /// <summary>Added to the CLI's environment (ControlPlane__ConnectionString=...).</summary>
    public Dictionary<string, string?> Environment { get; } = new(StringComparer.Ordinal);

    public string DefaultStore => Path.Combine(Directory, "data", "control-plane.db");

    public async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "..", "..", "Insights.ControlPlane.Cli", TestProcessStart.Configuration, "insights-admin.dll");
        Assert.True(File.Exists(dll), $"insights-admin is not built at {dll}; build the solution first.");
        var start = new TestProcessStart("insights-admin", "dotnet", [dll, .. arguments]) { WorkingDirectory = Directory };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in Environment)
        {
            start.Environment[key] = value;
        }

        await using var process = TestProcess.Start(start);
        var code = await process.WaitForExitAsync(Timeout);
        return (code, process.Output);
    }

    /// <summary>Runs and asserts success, returning the output.</summary>
    public async Task<string> SucceedAsync(params string[] arguments)
    {
        var (code, output) = await RunAsync(arguments);
        Assert.True(code == 0, $"insights-admin {string.Join(' ', arguments)} exited {code}:\n{output}");
        return output;
    }

    /// <summary>Runs and asserts the exit code and that the one error line says <paramref name="says"/>.</summary>
    public async Task<string> FailAsync(int exitCode, string says, params string[] arguments)
    {
        var (code, output) = await RunAsync(arguments);
        Assert.True(code == exitCode, $"insights-admin {string.Join(' ', arguments)}: expected exit {exitCode}, got {code}:\n{output}");
        var error = Assert.Single(output.Split('\n'), line => line.StartsWith("error: ", StringComparison.Ordinal));
        Assert.Contains(says, error, StringComparison.Ordinal);
        return error;
    }

    public ControlPlaneDb Open(string? path = null) =>
        ControlPlaneDbFactory.For(ControlPlaneProvider.Sqlite, $"Data Source={path ?? DefaultStore}").CreateDbContext();

    /// <summary>The partner id init printed.</summary>
    public static Guid PartnerId(string initOutput) => Guid.Parse(PartnerLine().Match(initOutput).Groups[1].Value);

    public static string[] Keys(string output) => [.. Key().Matches(output).Select(m => m.Value)];

    [GeneratedRegex(@"Partner\s.*\(([0-9a-f-]{36})\)")]
    private static partial Regex PartnerLine();

    [GeneratedRegex(@"ik_(pub|srv|read)_[A-Za-z0-9_-]{43}")]
    private static partial Regex Key();

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
