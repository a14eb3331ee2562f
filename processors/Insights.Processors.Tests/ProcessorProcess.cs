using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Insights.Processors.Tests;

/// <summary>
/// The processor as operators run it, <c>dotnet Insights.Processors.dll</c>, configured through environment
/// variables; for tests that must kill the process or watch its exit code.
/// </summary>
internal sealed partial class ProcessorProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private ProcessorProcess(Process process) => this.process = process;

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

    public bool HasExited => process.HasExited;

    public static ProcessorProcess Start(IReadOnlyDictionary<string, string?> settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Binary());
        start.Environment["URLS"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        // FailFast must not leave a core file behind in the test directory.
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the processor.");
        var processor = new ProcessorProcess(process);
        process.OutputDataReceived += (_, e) => processor.Record(e.Data);
        process.ErrorDataReceived += (_, e) => processor.Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return processor;
    }

    /// <summary>The address it listens on (metrics, health), from its start-up log line.</summary>
    public async Task<Uri> WaitForAddressAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var match = ListeningOn().Match(Output);
            if (match.Success)
            {
                return new Uri(match.Groups[1].Value);
            }

            Assert.False(process.HasExited, $"The processor exited before it listened:\n{Output}");
            Assert.True(clock.Elapsed < timeout, $"The processor did not listen within {timeout.TotalSeconds} s:\n{Output}");
            await Task.Delay(50);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The processor did not exit within {timeout.TotalSeconds} s:\n{Output}");
        }

        return process.ExitCode;
    }

    /// <summary>SIGTERM, as a service manager stops it; returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!process.HasExited)
        {
            _ = Kill(process.Id, 15);
        }

        return await WaitForExitAsync(timeout);
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed or committed, the group is not told.</summary>
    public async Task KillAsync(TimeSpan timeout)
    {
        if (!process.HasExited)
        {
            _ = Kill(process.Id, 9);
        }

        await WaitForExitAsync(timeout);
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    /// <summary>The processor's build output beside this test run's: artifacts/bin/Insights.Processors/&lt;configuration&gt;.</summary>
    private static string Binary()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var binRoot = testOutput.Parent?.Parent?.FullName ?? throw new InvalidOperationException("Unexpected test output layout.");
        var dll = Path.Combine(binRoot, "Insights.Processors", testOutput.Name, "Insights.Processors.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"The processor binary is not at {dll}; build the solution first.", dll);
    }

    [GeneratedRegex(@"Now listening on: (http://[^\s]+)")]
    private static partial Regex ListeningOn();

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
