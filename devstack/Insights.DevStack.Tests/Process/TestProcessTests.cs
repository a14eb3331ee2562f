using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.DevStack.Tests.Process;

/// <summary>The launcher every process-level test relies on: signals reach what they must, waits fail with the output.</summary>
public sealed partial class TestProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Ctrl_c_to_a_process_with_a_group_of_its_own_reaches_the_child_it_waits_for()
    {
        // The trap only runs once the foreground sleep has ended, and only SIGINT to the whole group ends it.
        await using var script = TestProcess.Start(Bash("trap 'echo interrupted; exit 0' INT; echo ready; sleep 300; echo slept", ownGroup: true));
        await script.WaitForLineAsync(Ready(), Timeout);

        Assert.Equal(0, await script.StopAsync(Timeout, StopSignal.Interrupt));
        Assert.Contains("interrupted", script.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("slept", script.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_to_a_group_of_its_own_ends_background_children_too()
    {
        await using var script = TestProcess.Start(Bash("sleep 301 & sleep 302 & echo ready; wait", ownGroup: true));
        await script.WaitForLineAsync(Ready(), Timeout);
        // "ready" can be printed before the two forked shells have exec'd sleep: wait until both are sleeping.
        var children = script.Descendants();
        for (var tries = 0; tries < 100 && children.Count(c => c.CommandLine.StartsWith("sleep 30", StringComparison.Ordinal)) < 2; tries++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
            children = script.Descendants();
        }

        Assert.Equal(2, children.Count(c => c.CommandLine.StartsWith("sleep 30", StringComparison.Ordinal)));

        Assert.NotEqual(0, await script.StopAsync(Timeout));
        Assert.All(children, c => Assert.NotEqual(c.CommandLine, TestProcess.CommandLine(c.Pid)));
    }

    [Fact]
    public async Task A_process_that_ignores_the_stop_signal_is_killed_with_its_children_and_the_stop_fails()
    {
        // An ignored signal stays ignored across exec, so the sleep ignores SIGTERM too.
        await using var stubborn = TestProcess.Start(Bash("trap '' TERM; echo ready; sleep 303"));
        await stubborn.WaitForLineAsync(Ready(), Timeout);
        var children = stubborn.Descendants();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => stubborn.StopAsync(TimeSpan.FromSeconds(1)));
        Assert.Contains("did not stop within 1 s of Terminate", error.Message, StringComparison.Ordinal);
        Assert.Contains("ready", error.Message, StringComparison.Ordinal);
        Assert.True(stubborn.HasExited);
        Assert.All(children, c => Assert.NotEqual(c.CommandLine, TestProcess.CommandLine(c.Pid)));
    }

    [Fact]
    public async Task Waiting_for_a_line_fails_with_the_exit_code_and_output_when_the_process_exits_first()
    {
        await using var quitter = TestProcess.Start(Bash("echo going; echo gone >&2; exit 3"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => quitter.WaitForLineAsync(Ready(), Timeout));
        Assert.Contains("exited with code 3", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, await quitter.WaitForExitAsync(Timeout));
        Assert.Equal(["going", "gone"], quitter.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
    }

    [Fact]
    public async Task Output_keeps_the_last_lines_and_says_how_many_were_dropped()
    {
        await using var chatty = TestProcess.Start(new TestProcessStart("seq", "seq", "1", "25000"));

        Assert.Equal(0, await chatty.WaitForExitAsync(Timeout));
        var lines = chatty.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(TestProcess.MaxLines + 1, lines.Length);
        Assert.Equal("[5000 earlier lines dropped]", lines[0]);
        Assert.Equal(["5001", "25000"], [lines[1], lines[^1]]);
    }

    [Fact]
    public async Task The_environment_adds_and_removes_variables_of_the_test_host()
    {
        var start = Bash("echo \"added=$ADDED removed=${HOME-unset}\"");
        start.Environment["ADDED"] = "yes";
        start.Environment["HOME"] = null;
        await using var printer = TestProcess.Start(start);

        Assert.Equal(0, await printer.WaitForExitAsync(Timeout));
        Assert.Equal("added=yes removed=unset", printer.Output.Trim());
    }

    [Fact]
    public void Free_ports_are_distinct_free_and_outside_the_range_port_0_draws_from()
    {
        var ports = TestProcess.FreePorts(5);
        Assert.Equal(5, ports.Distinct().Count());
        // A listener on port 0 (a dev stack's ClickHouse and Kafka) and outgoing connections take their ports from the
        // ephemeral range: a port handed out here must not be among them, or it can be taken before its process listens.
        var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        Assert.All(ports, port => Assert.True(port < range[0] || port > range[1], $"{port} lies in the ephemeral range {range[0]}–{range[1]}"));
        foreach (var port in ports)
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
        }
    }

    private static TestProcessStart Bash(string script, bool ownGroup = false) =>
        new("bash", "bash", "-c", script) { OwnProcessGroup = ownGroup };

    [GeneratedRegex("^ready$")]
    private static partial Regex Ready();
}
