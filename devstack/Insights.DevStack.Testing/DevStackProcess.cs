using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Insights.DevStack.Testing;

/// <summary>
/// One dev stack process on loopback with free ports and the given data directory, as a user would run
/// it (<c>dotnet Insights.DevStack.dll</c>). Ready when it has written its address file.
/// </summary>
public sealed partial class DevStackProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private DevStackProcess(Process process, string envFile)
    {
        this.process = process;
        EnvFile = envFile;
    }

    public string EnvFile { get; }

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>Everything the process printed so far.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public static DevStackProcess Start(string dataDirectory, string envFile)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     Binary(), "--data-dir", dataDirectory, "--clickhouse-port", "0", "--kafka-port", "0", "--env-file", envFile,
                 })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the dev stack process.");
        var devStack = new DevStackProcess(process, envFile);
        process.OutputDataReceived += (_, e) => devStack.Record(e.Data);
        process.ErrorDataReceived += (_, e) => devStack.Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return devStack;
    }

    /// <summary>Waits for the address file and returns its KEY=VALUE pairs.</summary>
    public async Task<IReadOnlyDictionary<string, string>> WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(EnvFile))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The dev stack exited with code {process.ExitCode} before it was ready:\n{Output}");
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"The dev stack was not ready after {timeout.TotalSeconds} s:\n{Output}");
            }

            await Task.Delay(50);
        }

        return (await File.ReadAllLinesAsync(EnvFile))
            .Select(line => line.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return process.ExitCode;
    }

    /// <summary>Stops the process the way Ctrl-C or a service manager does (SIGTERM) and returns its exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!process.HasExited)
        {
            _ = Kill(process.Id, 15);
        }

        try
        {
            return await WaitForExitAsync(timeout);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The dev stack did not stop within {timeout.TotalSeconds} s of SIGTERM:\n{Output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            try
            {
                await StopAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                // Already killed; disposal must not throw.
            }
        }

        process.Dispose();
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    /// <summary>The dev stack's build output beside this test run's (same configuration), or INSIGHTS_DEVSTACK_DLL.</summary>
    private static string Binary()
    {
        if (Environment.GetEnvironmentVariable("INSIGHTS_DEVSTACK_DLL") is { Length: > 0 } explicitPath)
        {
            return explicitPath;
        }

        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testOutput.Name; // artifacts/bin/<project>/<configuration>
        var binRoot = testOutput.Parent?.Parent?.FullName ?? throw new InvalidOperationException("Unexpected test output layout.");
        var dll = Path.Combine(binRoot, "Insights.DevStack", configuration, "Insights.DevStack.dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"The dev stack binary is not at {dll}. Build the solution first (scripts/test.sh does).", dll);
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
