using System.Runtime.InteropServices;

namespace Insights.DevStack.ClickHouse;

/// <summary>
/// The C API of chDB (libchdb.so, ClickHouse 26.7 as a library). Handles are opaque pointers;
/// every result and insert stream must be destroyed by its owner, every connection closed
/// before the process exits (an open connection makes the process segfault on exit).
/// </summary>
internal static unsafe partial class ChdbNative
{
    public const string Library = "chdb";

    [StructLayout(LayoutKind.Sequential)]
    public struct QueryAnalysis
    {
        public uint StructSize;
        public uint StatementCount;
        public uint Flags;
        public uint QueryClass;
    }

    public const uint QueryClassReadOnly = 0;
    public const uint QueryClassUnknown = 4;

    [LibraryImport(Library, EntryPoint = "chdb_set_signal_handlers_enabled")]
    public static partial void SetSignalHandlersEnabled(int enabled);

    [LibraryImport(Library, EntryPoint = "chdb_version")]
    public static partial nint Version();

    /// <returns>A pointer to a connection handle (chdb_connection*), or null.</returns>
    [LibraryImport(Library, EntryPoint = "chdb_connect")]
    public static partial nint Connect(int argc, nint* argv);

    /// <param name="connection">The chdb_connection* returned by <see cref="Connect"/>.</param>
    [LibraryImport(Library, EntryPoint = "chdb_close_conn")]
    public static partial void CloseConnection(nint connection);

    [LibraryImport(Library, EntryPoint = "chdb_shutdown")]
    public static partial int Shutdown();

    [LibraryImport(Library, EntryPoint = "chdb_query_with_params_n")]
    public static partial nint QueryWithParams(
        nint conn, byte* query, nuint queryLength, byte* format, nuint formatLength,
        nint* names, nuint* nameLengths, nint* values, nuint* valueLengths, nuint count);

    [LibraryImport(Library, EntryPoint = "chdb_stream_query_with_params_n")]
    public static partial nint StreamQueryWithParams(
        nint conn, byte* query, nuint queryLength, byte* format, nuint formatLength,
        nint* names, nuint* nameLengths, nint* values, nuint* valueLengths, nuint count);

    [LibraryImport(Library, EntryPoint = "chdb_stream_fetch_result")]
    public static partial nint StreamFetch(nint conn, nint streamResult);

    [LibraryImport(Library, EntryPoint = "chdb_stream_cancel_query")]
    public static partial void StreamCancel(nint conn, nint streamResult);

    [LibraryImport(Library, EntryPoint = "chdb_destroy_query_result")]
    public static partial void DestroyResult(nint result);

    [LibraryImport(Library, EntryPoint = "chdb_stream_insert_with_params_n")]
    public static partial nint StreamInsertWithParams(
        nint conn, byte* query, nuint queryLength, byte* format, nuint formatLength,
        nint* names, nuint* nameLengths, nint* values, nuint* valueLengths, nuint count);

    [LibraryImport(Library, EntryPoint = "chdb_stream_append")]
    public static partial int StreamAppend(nint stream, byte* data, nuint length);

    [LibraryImport(Library, EntryPoint = "chdb_stream_done")]
    public static partial nint StreamDone(nint stream);

    [LibraryImport(Library, EntryPoint = "chdb_stream_cancel_insert")]
    public static partial void StreamCancelInsert(nint stream);

    [LibraryImport(Library, EntryPoint = "chdb_stream_insert_error")]
    public static partial nint StreamInsertError(nint stream);

    [LibraryImport(Library, EntryPoint = "chdb_destroy_insert_stream")]
    public static partial void DestroyInsertStream(nint stream);

    [LibraryImport(Library, EntryPoint = "chdb_result_buffer")]
    public static partial byte* ResultBuffer(nint result);

    [LibraryImport(Library, EntryPoint = "chdb_result_length")]
    public static partial nuint ResultLength(nint result);

    [LibraryImport(Library, EntryPoint = "chdb_result_elapsed")]
    public static partial double ResultElapsed(nint result);

    [LibraryImport(Library, EntryPoint = "chdb_result_rows_read")]
    public static partial ulong ResultRowsRead(nint result);

    [LibraryImport(Library, EntryPoint = "chdb_result_bytes_read")]
    public static partial ulong ResultBytesRead(nint result);

    [LibraryImport(Library, EntryPoint = "chdb_result_rows_written")]
    public static partial ulong ResultRowsWritten(nint result);

    [LibraryImport(Library, EntryPoint = "chdb_result_bytes_written")]
    public static partial ulong ResultBytesWritten(nint result);

    [LibraryImport(Library, EntryPoint = "chdb_result_error")]
    public static partial nint ResultError(nint result);

    [LibraryImport(Library, EntryPoint = "chdb_classify_query_n")]
    public static partial int ClassifyQuery(
        nint conn, byte* sql, nuint sqlLength, byte* targetDatabase, nuint targetDatabaseLength, QueryAnalysis* analysis);
}
