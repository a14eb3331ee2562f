using System.Runtime.InteropServices;
using System.Text;

namespace Insights.DevStack.ClickHouse;

/// <summary>
/// One chDB connection. A connection runs one statement at a time; callers serialize use of it.
/// Query parameters are always bound by the engine (<c>{name:Type}</c>), never spliced into SQL.
/// </summary>
internal sealed unsafe class ChdbConnection : IDisposable
{
    private nint connectionPointer; // chdb_connection*, what chdb_close_conn wants
    private readonly nint connection; // chdb_connection, what every query function wants

    private ChdbConnection(nint connectionPointer)
    {
        this.connectionPointer = connectionPointer;
        connection = *(nint*)connectionPointer;
    }

    public event Action? Closed;

    public static ChdbConnection? Open(string dataPath, IReadOnlyList<KeyValuePair<string, string>>? settings)
    {
        var args = new List<string> { "clickhouse", $"--path={dataPath}" };
        if (settings is not null)
        {
            foreach (var (name, value) in settings)
            {
                args.Add($"--{name}={value}");
            }
        }

        var native = args.Select(a => Marshal.StringToCoTaskMemUTF8(a)).ToArray();
        try
        {
            fixed (nint* argv = native)
            {
                var pointer = ChdbNative.Connect(native.Length, argv);
                return pointer == 0 || *(nint*)pointer == 0 ? null : new ChdbConnection(pointer);
            }
        }
        finally
        {
            foreach (var p in native)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    /// <summary>Classifies the SQL with the engine's own parser: how many statements, and whether it only reads.</summary>
    public ChdbNative.QueryAnalysis Classify(ReadOnlySpan<byte> sql)
    {
        var analysis = new ChdbNative.QueryAnalysis { StructSize = (uint)sizeof(ChdbNative.QueryAnalysis) };
        fixed (byte* s = sql)
        {
            ChdbNative.ClassifyQuery(connection, s, (nuint)sql.Length, null, 0, &analysis);
        }

        return analysis;
    }

    public ChdbResult Query(ReadOnlySpan<byte> sql, string format, IReadOnlyList<KeyValuePair<string, string>> parameters) =>
        Run(sql, format, parameters, streaming: false);

    public ChdbResult Query(string sql, string format, IReadOnlyList<KeyValuePair<string, string>> parameters) =>
        Run(Encoding.UTF8.GetBytes(sql), format, parameters, streaming: false);

    /// <summary>Starts a streaming query; fetch its chunks with <see cref="Fetch"/> and always destroy the handle.</summary>
    public ChdbResult StartStream(ReadOnlySpan<byte> sql, string format, IReadOnlyList<KeyValuePair<string, string>> parameters) =>
        Run(sql, format, parameters, streaming: true);

    public ChdbResult Fetch(ChdbResult stream) => new(ChdbNative.StreamFetch(connection, stream.Handle));

    public void Cancel(ChdbResult stream) => ChdbNative.StreamCancel(connection, stream.Handle);

    public ChdbInsertStream StartInsert(ReadOnlySpan<byte> insertSql, string format, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        var formatBytes = Encoding.UTF8.GetBytes(format);
        using var bound = new BoundParameters(parameters);
        fixed (byte* q = insertSql)
        fixed (byte* f = formatBytes)
        {
            var handle = ChdbNative.StreamInsertWithParams(
                connection, q, (nuint)insertSql.Length, f, (nuint)formatBytes.Length,
                bound.Names, bound.NameLengths, bound.Values, bound.ValueLengths, (nuint)bound.Count);
            return new ChdbInsertStream(handle);
        }
    }

    private ChdbResult Run(ReadOnlySpan<byte> sql, string format, IReadOnlyList<KeyValuePair<string, string>> parameters, bool streaming)
    {
        var formatBytes = Encoding.UTF8.GetBytes(format);
        using var bound = new BoundParameters(parameters);
        fixed (byte* q = sql)
        fixed (byte* f = formatBytes)
        {
            var handle = streaming
                ? ChdbNative.StreamQueryWithParams(connection, q, (nuint)sql.Length, f, (nuint)formatBytes.Length,
                    bound.Names, bound.NameLengths, bound.Values, bound.ValueLengths, (nuint)bound.Count)
                : ChdbNative.QueryWithParams(connection, q, (nuint)sql.Length, f, (nuint)formatBytes.Length,
                    bound.Names, bound.NameLengths, bound.Values, bound.ValueLengths, (nuint)bound.Count);
            return new ChdbResult(handle);
        }
    }

    public void Dispose()
    {
        var pointer = Interlocked.Exchange(ref connectionPointer, 0);
        if (pointer == 0)
        {
            return;
        }

        ChdbNative.CloseConnection(pointer);
        Closed?.Invoke();
    }

    /// <summary>Parameter names and values pinned as native UTF-8 buffers for one call.</summary>
    private readonly struct BoundParameters : IDisposable
    {
        private readonly nint[] names;
        private readonly nint[] values;
        private readonly nuint[] nameLengths;
        private readonly nuint[] valueLengths;
        private readonly GCHandle[] pins;

        public BoundParameters(IReadOnlyList<KeyValuePair<string, string>> parameters)
        {
            Count = parameters.Count;
            names = new nint[Math.Max(1, Count)];
            values = new nint[Math.Max(1, Count)];
            nameLengths = new nuint[Math.Max(1, Count)];
            valueLengths = new nuint[Math.Max(1, Count)];
            for (var i = 0; i < Count; i++)
            {
                var name = Encoding.UTF8.GetBytes(parameters[i].Key);
                var value = Encoding.UTF8.GetBytes(parameters[i].Value);
                names[i] = Marshal.AllocHGlobal(Math.Max(1, name.Length));
                values[i] = Marshal.AllocHGlobal(Math.Max(1, value.Length));
                Marshal.Copy(name, 0, names[i], name.Length);
                Marshal.Copy(value, 0, values[i], value.Length);
                nameLengths[i] = (nuint)name.Length;
                valueLengths[i] = (nuint)value.Length;
            }

            pins =
            [
                GCHandle.Alloc(names, GCHandleType.Pinned), GCHandle.Alloc(values, GCHandleType.Pinned),
                GCHandle.Alloc(nameLengths, GCHandleType.Pinned), GCHandle.Alloc(valueLengths, GCHandleType.Pinned),
            ];
        }

        public int Count { get; }

        public nint* Names => (nint*)pins[0].AddrOfPinnedObject();

        public nint* Values => (nint*)pins[1].AddrOfPinnedObject();

        public nuint* NameLengths => (nuint*)pins[2].AddrOfPinnedObject();

        public nuint* ValueLengths => (nuint*)pins[3].AddrOfPinnedObject();

        public void Dispose()
        {
            foreach (var pin in pins)
            {
                pin.Free();
            }

            for (var i = 0; i < Count; i++)
            {
                Marshal.FreeHGlobal(names[i]);
                Marshal.FreeHGlobal(values[i]);
            }
        }
    }
}

/// <summary>A chDB result (whole or one streamed chunk). Its buffer is valid until disposed.</summary>
internal sealed unsafe class ChdbResult(nint handle) : IDisposable
{
    private nint handle = handle;

    public nint Handle => handle;

    public string? Error => ChdbEngine.ReadUtf8(ChdbNative.ResultError(handle));

    public ReadOnlySpan<byte> Data => handle == 0
        ? default
        : new ReadOnlySpan<byte>(ChdbNative.ResultBuffer(handle), checked((int)ChdbNative.ResultLength(handle)));

    public ulong RowsRead => ChdbNative.ResultRowsRead(handle);

    public ulong BytesRead => ChdbNative.ResultBytesRead(handle);

    public ulong RowsWritten => ChdbNative.ResultRowsWritten(handle);

    public ulong BytesWritten => ChdbNative.ResultBytesWritten(handle);

    public double Elapsed => ChdbNative.ResultElapsed(handle);

    public string ReadAllText()
    {
        ThrowIfError();
        return Encoding.UTF8.GetString(Data);
    }

    public void ThrowIfError()
    {
        if (handle == 0)
        {
            throw new ChdbException(1001, "Code: 1001. DB::Exception: The engine returned no result. (STD_EXCEPTION)");
        }

        if (Error is { } error)
        {
            throw ChdbException.FromMessage(error);
        }
    }

    public void Dispose()
    {
        var h = Interlocked.Exchange(ref handle, 0);
        if (h != 0)
        {
            ChdbNative.DestroyResult(h);
        }
    }
}

/// <summary>A streaming INSERT: append format-encoded chunks, then <see cref="Complete"/>.</summary>
internal sealed unsafe class ChdbInsertStream(nint handle) : IDisposable
{
    private nint handle = handle;

    public string? Error => ChdbEngine.ReadUtf8(ChdbNative.StreamInsertError(handle));

    /// <summary>Pushes one chunk; blocks while the engine applies back-pressure.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        fixed (byte* d = data)
        {
            if (ChdbNative.StreamAppend(handle, d, (nuint)data.Length) != 0)
            {
                throw ChdbException.FromMessage(Error ?? "Code: 1001. DB::Exception: The insert stream failed. (STD_EXCEPTION)");
            }
        }
    }

    public ChdbResult Complete() => new(ChdbNative.StreamDone(handle));

    public void Cancel() => ChdbNative.StreamCancelInsert(handle);

    public void Dispose()
    {
        var h = Interlocked.Exchange(ref handle, 0);
        if (h != 0)
        {
            ChdbNative.DestroyInsertStream(h);
        }
    }
}
