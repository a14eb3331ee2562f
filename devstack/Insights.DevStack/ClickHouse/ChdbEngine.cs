using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace Insights.DevStack.ClickHouse;

/// <summary>
/// The ClickHouse engine of this process: libchdb.so bound to one data directory.
/// chDB allows one data path per process and several connections to it at once, so the engine
/// owns a boot connection for its whole life and hands out cheap (~0.3 ms) per-request ones.
/// </summary>
internal sealed class ChdbEngine : IDisposable
{
    private static string? loadedLibraryPath;
    private readonly ChdbConnection bootConnection;
    private int openConnections;
    private bool disposed;

    private ChdbEngine(string dataPath, ChdbConnection boot, string version, string timezone)
    {
        DataPath = dataPath;
        bootConnection = boot;
        Version = version;
        ServerTimezone = timezone;
    }

    public string DataPath { get; }

    public string Version { get; }

    /// <summary>The engine's own time zone, sent to clients as X-ClickHouse-Timezone.</summary>
    public string ServerTimezone { get; }

    public int OpenConnections => Volatile.Read(ref openConnections);

    public static ChdbEngine Start(string libraryPath, string dataPath)
    {
        LoadLibrary(libraryPath);
        Directory.CreateDirectory(dataPath);

        // chDB's own signal handlers turn the first managed NullReferenceException into a hang.
        ChdbNative.SetSignalHandlersEnabled(0);
        var boot = ChdbConnection.Open(dataPath, settings: null)
            ?? throw new InvalidOperationException(
                $"The ClickHouse engine could not open the data directory '{dataPath}'. Is another dev stack using it? " +
                "Only one process may use a data directory: stop the other one or pass --data-dir with another path.");

        using var result = boot.Query("SELECT version(), timezone()", "TabSeparated", []);
        var fields = result.ReadAllText().TrimEnd('\n').Split('\t');
        var engine = new ChdbEngine(dataPath, boot, fields[0], fields.Length > 1 ? fields[1] : "UTC");
        return engine;
    }

    /// <summary>A fresh connection with the given per-connection settings applied (chDB applies
    /// <c>--name=value</c> arguments exactly as <c>SET name = value</c>, to this connection only).</summary>
    public ChdbConnection Connect(IReadOnlyList<KeyValuePair<string, string>>? settings)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var connection = ChdbConnection.Open(DataPath, settings)
            ?? throw new ChdbException(115, "Code: 115. DB::Exception: Cannot apply the request's settings: " +
                "one of them is unknown or has an invalid value. (UNKNOWN_SETTING)");
        Interlocked.Increment(ref openConnections);
        connection.Closed += () => Interlocked.Decrement(ref openConnections);
        return connection;
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        bootConnection.Dispose();
    }

    private static void LoadLibrary(string libraryPath)
    {
        if (!File.Exists(libraryPath))
        {
            throw new FileNotFoundException(
                $"The ClickHouse engine library was not found at '{libraryPath}'. Run `scripts/setup.sh` to fetch it, " +
                "or point DevStack:ClickHouse:EngineLibrary (env INSIGHTS_CHDB_LIBRARY) at a libchdb.so.", libraryPath);
        }

        if (Interlocked.CompareExchange(ref loadedLibraryPath, libraryPath, null) is null)
        {
            var handle = NativeLibrary.Load(libraryPath);
            NativeLibrary.SetDllImportResolver(typeof(ChdbEngine).Assembly, (name, _, _) =>
                name == ChdbNative.Library ? handle : IntPtr.Zero);
        }
    }

    internal static string? ReadUtf8(nint pointer) => pointer == 0 ? null : Marshal.PtrToStringUTF8(pointer);

    internal static unsafe string? LibraryVersion() => ReadUtf8(ChdbNative.Version());

    internal static string AssemblyVersion =>
        typeof(ChdbEngine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "dev";

    internal static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);
}
