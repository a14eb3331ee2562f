using System.Globalization;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.EndToEnd.Tests;

/// <summary>The README's commands as a user runs them: <c>scripts/run.sh</c> and <c>scripts/admin.sh</c> from the repository root.</summary>
internal static partial class RunScript
{
    /// <summary>
    /// How long run.sh, or a service process, may take to come up. A quiet machine needs about 20 s for a plain start
    /// (18–21 s, Release, 2026-12-06; --demo does more). CI runs every test assembly at once on two cores, where one
    /// run.sh took just over 300 s on 2026-12-06 (the processors 110 s with their migrations, then ingest and the query
    /// API about 85 s each, one after the other then; they now start together). A wait, not a performance target:
    /// start-up time is not what these tests measure, and run.sh itself reports a service that exits or hangs.
    /// </summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(600);

    /// <summary>The line run.sh prints once every service answers.</summary>
    [GeneratedRegex(@"^\[run\] Insights is running:")]
    public static partial Regex RunningLine();

    /// <summary>
    /// <c>bash scripts/run.sh [args]</c> in a session of its own, as a terminal runs it: Ctrl-C then goes to its whole
    /// process group, and nothing of the test host's is in that group.
    /// </summary>
    public static TestProcess Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new TestProcessStart("run.sh", "bash", ["scripts/run.sh", .. arguments]) { WorkingDirectory = RepositoryRoot(), OwnProcessGroup = true };
        Isolate(start, environment);
        return TestProcess.Start(start);
    }

    /// <summary>
    /// Private ports and state for one run.sh, with the build the test command already made: ingest, query API,
    /// processors and (a fourth port, else any free one) the dashboards web app.
    /// </summary>
    public static Dictionary<string, string> Environment(int[] ports, string state) => new()
    {
        ["INSIGHTS_INGEST_PORT"] = ports[0].ToString(CultureInfo.InvariantCulture),
        ["INSIGHTS_QUERY_PORT"] = ports[1].ToString(CultureInfo.InvariantCulture),
        ["INSIGHTS_PROCESSORS_PORT"] = ports[2].ToString(CultureInfo.InvariantCulture),
        ["INSIGHTS_DASHBOARDS_PORT"] = (ports.Length > 3 ? ports[3] : TestProcess.FreePorts(1)[0]).ToString(CultureInfo.InvariantCulture),
        ["INSIGHTS_CLICKHOUSE_PORT"] = "0",
        ["INSIGHTS_KAFKA_PORT"] = "0",
        ["INSIGHTS_STATE_DIR"] = state,
        ["INSIGHTS_SKIP_BUILD"] = "1", // the test command built the solution; the script must run that build
        ["CONFIGURATION"] = TestProcessStart.Configuration,
    };

    /// <summary>The dev stack's addresses run.sh wrote to the state directory's <c>devstack.env</c> (Kafka, ClickHouse HTTP).</summary>
    public static Dictionary<string, string> DevStack(string state) =>
        File.ReadAllLines(Path.Combine(state, "devstack.env")).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);

    /// <summary>
    /// Runs <paramref name="sql"/> on a dev stack's ClickHouse over its HTTP interface (the address in devstack.env), in
    /// <paramref name="database"/> (null: none, for statements that create it), and returns the answer's text.
    /// </summary>
    public static async Task<string> ClickHouseAsync(string clickHouse, string sql, string? database = "insights")
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var content = new StringContent(sql);
        var query = database is null ? "/" : $"/?database={database}";
        using var response = await http.PostAsync(new Uri(clickHouse.TrimEnd('/') + query), content, TestContext.Current.CancellationToken);
        var body = (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Trim();
        Assert.True(response.IsSuccessStatusCode, $"ClickHouse refused {sql}: {body}");
        return body;
    }

    /// <summary>
    /// The settings another instance of a service needs to join a running run.sh, as an operator would copy them
    /// (docs/production.md): its dev stack's Kafka and ClickHouse, and its control-plane file.
    /// </summary>
    public static Dictionary<string, string> InstanceSettings(string state)
    {
        var stack = DevStack(state);
        return new()
        {
            ["Kafka__BootstrapServers"] = stack["INSIGHTS_KAFKA_BOOTSTRAP"],
            ["Live__BootstrapServers"] = stack["INSIGHTS_KAFKA_BOOTSTRAP"],
            ["ClickHouse__ConnectionString"] = $"Host=127.0.0.1;Port={new Uri(stack["INSIGHTS_CLICKHOUSE_URL"]).Port};Username=default;Password=",
            ["ControlPlane__DataDirectory"] = Path.Combine(state, "control-plane"),
            ["Logging__LogLevel__Default"] = "Warning",
        };
    }

    /// <summary><c>bash scripts/admin.sh args</c> to its end: the exit code and everything it printed.</summary>
    public static Task<(int ExitCode, string Output)> AdminAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        ScriptAsync("scripts/admin.sh", environment, TimeSpan.FromSeconds(120), arguments);

    /// <summary><c>bash SCRIPT args</c> (a path from the repository root) to its end: the exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> ScriptAsync(string script, IReadOnlyDictionary<string, string> environment, TimeSpan timeout,
        params string[] arguments)
    {
        var start = new TestProcessStart(Path.GetFileName(script), "bash", [script, .. arguments]) { WorkingDirectory = RepositoryRoot() };
        Isolate(start, environment);
        await using var process = TestProcess.Start(start);
        var exit = await process.WaitForExitAsync(timeout);
        return (exit, process.Output);
    }

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "scripts", "run.sh")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No scripts/run.sh above {AppContext.BaseDirectory}.");
    }

    // The test host's own environment names its dev stack and configuration; the scripts must find their own.
    private static void Isolate(TestProcessStart start, IReadOnlyDictionary<string, string> environment)
    {
        foreach (var inherited in new[] { "INSIGHTS_CLICKHOUSE_URL", "INSIGHTS_KAFKA_BOOTSTRAP", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT" })
        {
            start.Environment[inherited] = null;
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
    }
}

/// <summary>
/// One <c>scripts/run.sh</c> of a test, started as a user starts it and waited for until it says it runs: free ports
/// (ingest, query API, processors, dashboards, then the test's own) and a state directory of its own. Disposing it
/// stops the script and deletes the state.
/// </summary>
internal sealed class RunningSystem : IAsyncDisposable
{
    private readonly DirectoryInfo state;

    private RunningSystem(int[] ports, DirectoryInfo state, Dictionary<string, string> environment, TestProcess script)
    {
        Ports = ports;
        this.state = state;
        Environment = environment;
        Script = script;
    }

    /// <summary>Ingest, query API, processors; a fourth is the dashboards' and any further ones are the test's.</summary>
    public int[] Ports { get; }

    /// <summary>The state directory (logs, engines' data, control-plane file, devstack.env).</summary>
    public string State => state.FullName;

    /// <summary>The environment run.sh was started with; the admin script and other scripts take it too.</summary>
    public Dictionary<string, string> Environment { get; }

    public TestProcess Script { get; }

    public Uri Ingest => Local(Ports[0]);

    public Uri Query => Local(Ports[1]);

    public Uri Processors => Local(Ports[2]);

    /// <summary>
    /// Starts run.sh with <paramref name="arguments"/> on <paramref name="ports"/> free ports (at least 3), after
    /// <paramref name="configure"/> added to its environment, and returns once it prints its running line.
    /// </summary>
    public static async Task<RunningSystem> StartAsync(string name, int ports = 3, Action<Dictionary<string, string>, int[]>? configure = null,
        params string[] arguments)
    {
        var free = TestProcess.FreePorts(Math.Max(3, ports));
        var state = Directory.CreateTempSubdirectory($"insights-{name}-");
        var environment = RunScript.Environment(free, state.FullName);
        configure?.Invoke(environment, free);
        TestProcess? script = null;
        try
        {
            script = RunScript.Start(environment, arguments);
            await script.WaitForLineAsync(RunScript.RunningLine(), RunScript.StartTimeout);
            return new RunningSystem(free, state, environment, script);
        }
        catch
        {
            if (script is not null)
            {
                await script.DisposeAsync();
            }

            Delete(state);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Script.DisposeAsync();
        Delete(state);
    }

    private static Uri Local(int port) => new($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");

    private static void Delete(DirectoryInfo state)
    {
        try
        {
            state.Delete(recursive: true);
        }
        catch (IOException)
        {
            // The engines' files of a stopped run; the directory is in the temporary folder.
        }
    }
}
