namespace Insights.DevStack.Testing;

/// <summary>
/// A fresh directory for a test host's control-plane store (setting <c>ControlPlane:DataDirectory</c>): every host, or
/// every group of processes that must share sites and keys, gets its own SQLite file, so tests never see each other's
/// sites, and nothing lands in the source tree.
/// </summary>
public static class ControlPlaneDirectory
{
    public const string Setting = "ControlPlane:DataDirectory";

    /// <summary>The same setting as an environment variable, for services started as processes.</summary>
    public const string EnvironmentVariable = "ControlPlane__DataDirectory";

    public static string New()
    {
        var path = Path.Combine(Path.GetTempPath(), "insights-tests", "control-plane", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
