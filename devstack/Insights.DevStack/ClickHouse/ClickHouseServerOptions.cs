using System.ComponentModel.DataAnnotations;

namespace Insights.DevStack.ClickHouse;

/// <summary>The dev stack's ClickHouse: where the engine library and data live, and how it is served.</summary>
public sealed class ClickHouseServerOptions
{
    /// <summary>Path to libchdb.so; `scripts/setup.sh` fetches it into the user's cache.</summary>
    [Required]
    public string EngineLibrary { get; set; } = DefaultEngineLibrary();

    /// <summary>Persistent data directory (one process per directory).</summary>
    [Required]
    public string DataDirectory { get; set; } = Path.Combine(".devstack", "clickhouse");

    /// <summary>HTTP port on 127.0.0.1; 8123 as ClickHouse's own, 0 picks a free one (tests).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8123;

    /// <summary>The one user the dev stack knows; production ClickHouse has real users.</summary>
    [Required]
    public string User { get; set; } = "default";

    /// <summary>Empty by default, as a fresh ClickHouse install's `default` user.</summary>
    public string Password { get; set; } = "";

    /// <summary>Largest SQL text accepted (the INSERT data after FORMAT is not counted); bounds memory per request.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxQueryBytes { get; set; } = 1024 * 1024;

    public static string DefaultEngineLibrary()
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "insights", "chdb", EngineVersion, "libchdb.so");
    }

    /// <summary>The npm version of @chdb/lib-linux-x64-gnu the dev stack is built and tested against.</summary>
    public const string EngineVersion = "26.7.3-stable.1";
}
