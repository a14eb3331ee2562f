using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Insights.DevStack.Testing;

/// <summary>The signals a test stops a process with.</summary>
public enum StopSignal
{
    /// <summary>SIGINT: Ctrl-C in a terminal.</summary>
    Interrupt = 2,

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed or committed, nobody is told.</summary>
    Kill = 9,

    /// <summary>SIGTERM: how a service manager (or <c>docker stop</c>) stops a service.</summary>
    Terminate = 15,
}

/// <summary>
/// A program a test runs as its users run it, in a process of its own: the dev stack, a service's binary, a script.
/// Keeps what it prints (stdout and stderr, the last <see cref="MaxLines"/> lines) for assertions and failure messages;
/// every wait fails with that output when the process exits first or the time is up. Disposing kills what is left.
/// </summary>
public sealed partial class TestProcess : IAsyncDisposable
{
    /// <summary>Lines kept of the output; older lines are dropped (and counted) so a chatty process cannot fill memory.</summary>
    public const int MaxLines = 20_000;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    // After the exit, what the process wrote last may still be in the pipe; a descendant holding the pipe open must not
    // make a finished process look alive, so the wait for the end of its output is short and never fails.
    private static readonly TimeSpan OutputDrainGrace = TimeSpan.FromSeconds(2);

    private readonly Process process;
    private readonly bool ownProcessGroup;
    private readonly Queue<string> lines = new();
    private readonly TaskCompletionSource exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long droppedLines;

    private TestProcess(string name, Process process, bool ownProcessGroup)
    {
        Name = name;
        this.process = process;
        this.ownProcessGroup = ownProcessGroup;
    }

    public string Name { get; }

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>Everything the process printed so far (stdout and stderr, interleaved as they arrived).</summary>
    public string Output
    {
        get
        {
            lock (lines)
            {
                var text = new StringBuilder();
                if (droppedLines > 0)
                {
                    text.Append(CultureInfo.InvariantCulture, $"[{droppedLines} earlier lines dropped]\n");
                }

                foreach (var line in lines)
                {
                    text.Append(line).Append('\n');
                }

                return text.ToString();
            }
        }
    }

    public static TestProcess Start(TestProcessStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        var info = new ProcessStartInfo(start.OwnProcessGroup ? "setsid" : start.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = start.WorkingDirectory ?? "",
        };
        if (start.OwnProcessGroup)
        {
            // setsid execs the program in place (the child of the test host is never a group leader, so setsid need not
            // fork): the process started here is the program, and its id is its process group's id.
            info.ArgumentList.Add(start.FileName);
        }

        foreach (var argument in start.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in start.Environment)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var started = new TestProcess(start.Name, process, start.OwnProcessGroup);
        process.OutputDataReceived += (_, e) => started.Record(e.Data, started.stdoutClosed);
        process.ErrorDataReceived += (_, e) => started.Record(e.Data, started.stderrClosed);
        process.Exited += (_, _) => started.exited.TrySetResult();
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {start.Name} ({start.FileName}).");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>
    /// Loopback ports free at the time of the call, distinct from each other, for a process to listen on a little later.
    /// </summary>
    /// <remarks>
    /// They are taken below the system's ephemeral range (<c>/proc/sys/net/ipv4/ip_local_port_range</c>): the ports the
    /// kernel hands to a listener on port 0 and to every outgoing connection come from that range, so between this call and
    /// the process's listen nothing else on the machine is given them. (A dev stack on port 0 once got the query API's
    /// port that way, and run.sh stopped with "address already in use".) Each candidate is tried by listening on it.
    /// </remarks>
    public static int[] FreePorts(int count)
    {
        var (low, high) = EphemeralRange();
        // Below the range when there is room (10,000 up: under it lie well-known services' ports), else above it.
        var (first, last) = low > 11_000 ? (10_000, low - 1) : high < 64_535 ? (high + 1, 65_535) : (1_024, Math.Max(1_024, low - 1));
        var ports = new List<int>(count);
        for (var attempt = 0; ports.Count < count; attempt++)
        {
            if (attempt > 10_000) throw new InvalidOperationException($"No {count} free loopback ports in {first}–{last}.");
            var port = Random.Shared.Next(first, last + 1);
            if (!ports.Contains(port) && CanListen(port)) ports.Add(port);
        }

        return [.. ports];
    }

    private static (int Low, int High) EphemeralRange()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (32_768, 60_999); // Linux's default
        }
    }

    private static bool CanListen(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds while the process runs; <paramref name="what"/> names it in failures.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {process.ExitCode} before {what}:\n{Output}");
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name}: no {what} within {timeout.TotalSeconds} s:\n{Output}");
            }

            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Waits for the first output line matching <paramref name="pattern"/> and returns it.</summary>
    public async Task<string> WaitForLineAsync(Regex pattern, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        string? found = null;
        await WaitUntilAsync(() => (found = FirstLine(pattern)) is not null, $"output line matching /{pattern}/", timeout);
        return found!;
    }

    /// <summary>Waits until the process answers GET <paramref name="path"/> at <paramref name="address"/> with 2xx.</summary>
    public async Task WaitUntilHealthyAsync(Uri address, string path, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (!await AnswersAsync(http, path))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {process.ExitCode} before it was healthy at {path}:\n{Output}");
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name} was not healthy at {path} after {timeout.TotalSeconds} s:\n{Output}");
            }

            await Task.Delay(PollInterval * 2);
        }
    }

    /// <summary>Waits for the process to exit (and its last output to arrive) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await exited.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds} s:\n{Output}");
        }

        try
        {
            await Task.WhenAll(stdoutClosed.Task, stderrClosed.Task).WaitAsync(OutputDrainGrace);
        }
        catch (TimeoutException)
        {
            // A descendant still holds the pipe open; the grace was long enough for what the process itself wrote.
        }

        return process.ExitCode;
    }

    /// <summary>
    /// Sends <paramref name="signal"/> (to the whole process group when the process has one of its own) and returns the
    /// exit code. A process still running after <paramref name="timeout"/> is killed, and the stop fails.
    /// </summary>
    public async Task<int> StopAsync(TimeSpan timeout, StopSignal signal = StopSignal.Terminate)
    {
        Signal(signal);
        try
        {
            return await WaitForExitAsync(timeout);
        }
        catch (TimeoutException)
        {
            await KillTreeAsync();
            throw new TimeoutException($"{Name} did not stop within {timeout.TotalSeconds} s of {signal}:\n{Output}");
        }
    }

    /// <summary>SIGKILL, as a crash or the OOM killer ends a process; returns once it is gone.</summary>
    public Task<int> KillAsync(TimeSpan timeout)
    {
        Signal(StopSignal.Kill);
        return WaitForExitAsync(timeout);
    }

    /// <summary>Every process below this one (children, their children, ...), each with its command line.</summary>
    public IReadOnlyList<(int Pid, string CommandLine)> Descendants()
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && ParentOf(pid) is { } parent)
            {
                (children.TryGetValue(parent, out var siblings) ? siblings : children[parent] = []).Add(pid);
            }
        }

        var found = new List<(int, string)>();
        var pending = new Queue<int>([process.Id]);
        while (pending.TryDequeue(out var pid))
        {
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                found.Add((child, CommandLine(child)));
                pending.Enqueue(child);
            }
        }

        return found;
    }

    /// <summary>A process's command line, arguments separated by spaces; empty when it is gone.</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Kills whatever is still running (after a failed test), so nothing outlives the test run.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillTreeAsync();
        process.Dispose();
    }

    private static async Task<bool> AnswersAsync(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false; // not listening yet
        }
        catch (TaskCanceledException)
        {
            return false; // a slow start under load
        }
    }

    /// <summary>SIGKILL to the process and everything below it; never throws.</summary>
    private async Task KillTreeAsync()
    {
        if (!process.HasExited)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
        }

        // A group of its own may hold processes whose parent already exited; the tree walk above cannot see them.
        if (ownProcessGroup)
        {
            Signal(StopSignal.Kill);
        }

        await Task.WhenAny(exited.Task, Task.Delay(TimeSpan.FromSeconds(30)));
    }

    private void Signal(StopSignal signal)
    {
        // The group outlives its leader only through orphans, which a signal to the group still reaches.
        if (ownProcessGroup)
        {
            _ = Kill(-process.Id, (int)signal);
        }
        else if (!process.HasExited)
        {
            _ = Kill(process.Id, (int)signal);
        }
    }

    private string? FirstLine(Regex pattern)
    {
        lock (lines)
        {
            return lines.FirstOrDefault(pattern.IsMatch);
        }
    }

    private void Record(string? line, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (lines)
        {
            if (lines.Count == MaxLines)
            {
                lines.Dequeue();
                droppedLines++;
            }

            lines.Enqueue(line);
        }
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
