using System.Diagnostics;
using System.Security.Cryptography;

namespace Insights.Ingest.Tests.Integration;

/// <summary>
/// Runs a script of TestData/Segment with the real SDKs scripts/setup.sh installed (pinned by that folder's
/// package-lock.json, in the cache folder named by the lock's hash). Also compiled into the end-to-end tests, which
/// copy the same folder to their output.
/// </summary>
internal static class SegmentSdks
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "TestData", "Segment");

    /// <summary>Runs <c>node TestData/Segment/&lt;script&gt; args</c> to its end and returns what it printed; fails with what to do when node or the SDKs are missing.</summary>
    public static async Task<string> RunAsync(string script, params string[] arguments)
    {
        var modules = Modules();
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["NODE_PATH"] = modules },
        };
        start.ArgumentList.Add(Path.Combine(Folder, script));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process node;
        try
        {
            node = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception error)
        {
            Assert.Fail($"Node.js is needed to run the Segment-compatible SDKs ({error.Message}): apt-get install -y nodejs npm, then scripts/setup.sh.");
            throw;
        }

        using (node)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(90));
            var stdout = node.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = node.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await node.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                node.Kill(entireProcessTree: true);
                throw;
            }

            var output = await stdout;
            Assert.True(node.ExitCode == 0 && output.Contains("\"done\":true", StringComparison.Ordinal),
                $"node {script} exited {node.ExitCode}: {output} {await stderr}");
            return output;
        }
    }

    private static string Modules()
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        var lockHash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(Folder, "package-lock.json"))))[..12];
        var modules = Path.Combine(cache, "insights", "npm", $"segment-sdks@{lockHash}", "node_modules");
        Assert.True(Directory.Exists(Path.Combine(modules, "@segment", "analytics-node")) && Directory.Exists(Path.Combine(modules, "@rudderstack", "rudder-sdk-node")),
            $"The Segment-compatible SDKs pinned by TestData/Segment/package-lock.json are not installed at {modules}: run scripts/setup.sh (it needs node and npm).");
        return modules;
    }
}
