namespace Insights.DevStack.Testing;

/// <summary>What <see cref="TestProcess.Start"/> runs: a program, its arguments, its environment and where it runs.</summary>
public sealed class TestProcessStart
{
    public TestProcessStart(string name, string fileName, params IEnumerable<string> arguments)
    {
        Name = name;
        FileName = fileName;
        Arguments = [.. arguments];
    }

    /// <summary>How failures and timeouts name the process.</summary>
    public string Name { get; }

    public string FileName { get; }

    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Added to (or, with a null value, removed from) the test host's own environment.</summary>
    public Dictionary<string, string?> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>The test host's current directory when null.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// Runs the program in a session and process group of its own (through <c>setsid</c>), as a terminal runs a
    /// command: a stop signal then reaches every process it started, and none of the test host's.
    /// </summary>
    public bool OwnProcessGroup { get; init; }

    /// <summary>
    /// <c>dotnet &lt;project&gt;.dll</c> from the project's build output beside this test run's
    /// (<c>artifacts/bin/&lt;project&gt;/&lt;configuration&gt;</c>), as operators run our services.
    /// </summary>
    public static TestProcessStart Dotnet(string project, params IEnumerable<string> arguments) =>
        DotnetDll(project, BuildOutput(project), arguments);

    /// <summary><c>dotnet &lt;dll&gt;</c> for a binary at a given path.</summary>
    public static TestProcessStart DotnetDll(string name, string dll, params IEnumerable<string> arguments)
    {
        var start = new TestProcessStart(name, "dotnet", [dll, .. arguments]);
        // Environment.FailFast (a crash a test provokes) must not leave a core file behind in the test directory.
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        return start;
    }

    /// <summary>The configuration this test run was built in (the name of its output folder: debug or release).</summary>
    public static string Configuration => TestOutput().Name;

    /// <summary>The path of a project's dll in its build output beside this test run's, same configuration.</summary>
    public static string BuildOutput(string project)
    {
        var testOutput = TestOutput();
        var binRoot = testOutput.Parent?.Parent?.FullName ?? throw new InvalidOperationException($"Unexpected test output layout: {testOutput.FullName}.");
        var dll = Path.Combine(binRoot, project, testOutput.Name, project + ".dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"{project} is not built at {dll}; build the solution first (scripts/test.sh does).", dll);
    }

    // artifacts/bin/<project>/<configuration>/
    private static DirectoryInfo TestOutput() => new(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
}
