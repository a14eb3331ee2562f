namespace Insights.DevStack.Testing;

/// <summary>
/// A fresh folder per test host for the control plane's SQLite file (<c>ControlPlane:DataDirectory</c>): otherwise the
/// file lands in the content root and every host of a test run shares it (sites and keys seeded by one test would
/// exist in the next). All of them are deleted when the test run exits.
/// </summary>
public static class TestDataDirectories
{
    public const string Setting = "ControlPlane:DataDirectory";

    private static readonly string Root = Path.Combine(Path.GetTempPath(), $"insights-test-data-{Environment.ProcessId}");

    static TestDataDirectories() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A host still holding a file; the folder is in the temporary directory and harmless.
        }
    };

    public static string New() => Directory.CreateDirectory(Path.Combine(Root, Guid.NewGuid().ToString("N")[..12])).FullName;
}
