using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Insights.DevStack.ClickHouse;

/// <summary>
/// ClickHouse's HTTP interface over the in-process engine, as ClickHouse.Driver and curl use it:
/// the SQL is the <c>query</c> parameter, a newline, then the body; INSERT data follows its FORMAT clause;
/// errors are <c>Code: N. DB::Exception: ...</c> with <c>X-ClickHouse-Exception-Code</c>, and an error after
/// rows were sent is written in-band between <c>__exception__</c> tags, then the connection is cut.
/// </summary>
internal sealed class ClickHouseHttpHandler(
    ChdbEngine engine,
    SessionRegistry sessions,
    ClickHouseServerOptions options,
    ILogger<ClickHouseHttpHandler> logger)
{
    private const int ChunkSize = 1 << 20;
    private static readonly byte[] OkBody = "Ok.\n"u8.ToArray();
    private readonly ConcurrentDictionary<string, byte> running = new(StringComparer.Ordinal);

    /// <summary>Fault injection: while false, every query is refused as a server that cannot be reached would
    /// be (503), so services' outage handling can be tested without losing the data directory.</summary>
    public bool Available { get; set; } = true;

    /// <summary>Query ids whose request still holds an engine connection (a finished or cancelled query is gone).</summary>
    public IReadOnlyCollection<string> RunningQueries => running.Keys.ToArray();

    public static Task Ping(HttpContext context)
    {
        context.Response.ContentType = "text/plain; charset=UTF-8";
        return context.Response.Body.WriteAsync(OkBody).AsTask();
    }

    public async Task Handle(HttpContext context)
    {
        var response = context.Response;
        var tag = ExceptionTag();
        response.Headers["X-ClickHouse-Server-Display-Name"] = "insights-devstack";
        response.Headers["X-ClickHouse-Timezone"] = engine.ServerTimezone;
        response.Headers["X-ClickHouse-Exception-Tag"] = tag;

        ClickHouseRequest? request = null;
        try
        {
            if (!Available)
            {
                throw new ChdbException(210, "Code: 210. DB::NetException: The dev stack's ClickHouse is down (fault injection). (NETWORK_ERROR)");
            }

            request = ClickHouseRequest.From(context.Request);
            response.Headers["X-ClickHouse-Query-Id"] = request.QueryId;
            Authenticate(request);

            var isGet = HttpMethods.IsGet(context.Request.Method);
            if (isGet && request.Query is null)
            {
                await Ping(context);
                return;
            }

            var body = isGet
                ? Stream.Null
                : HttpCompression.DecodeRequest(context.Request.Body, context.Request.Headers.ContentEncoding.ToString());
            running[request.QueryId] = 0;
            try
            {
                await using (body.ConfigureAwait(false))
                {
                    await Execute(context, request, body, tag, readOnly: isGet);
                }
            }
            finally
            {
                running.TryRemove(request.QueryId, out _);
            }
        }
        catch (ChdbException error)
        {
            await Fail(context, error, tag);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // A body that does not decode, a client that went away mid-body, or anything unforeseen: the
            // request fails on its own and the server goes on; nothing of a failed insert was committed.
            if (context.RequestAborted.IsCancellationRequested)
            {
                logger.LogDebug("Client disconnected during query {QueryId}", request?.QueryId);
                return;
            }

            await Fail(context, new ChdbException(1001,
                $"Code: 1001. DB::Exception: {error.GetType().Name}: {error.Message} (STD_EXCEPTION)"), tag);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            logger.LogDebug("Client disconnected during query {QueryId}", request?.QueryId);
        }
    }

    private void Authenticate(ClickHouseRequest request)
    {
        var user = request.User ?? "default";
        var password = request.Password ?? "";
        var ok = user == options.User &&
                 CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(options.Password));
        if (!ok)
        {
            throw new ChdbException(516,
                $"Code: 516. DB::Exception: {user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)");
        }
    }

    private async Task Execute(HttpContext context, ClickHouseRequest request, Stream body, string tag, bool readOnly)
    {
        var head = await ReadHead(request, body, context.RequestAborted);
        try
        {
            var text = head.Buffer.AsSpan(0, head.Length);
            var sqlHead = SqlHead.Parse(text, head.Complete);
            if (!sqlHead.IsInsertWithData && !head.Complete)
            {
                throw ChdbException.Syntax($"Max query size exceeded: the query is longer than {options.MaxQueryBytes} bytes");
            }

            var sql = text[..sqlHead.SqlLength].ToArray();
            if (sql.AsSpan().Trim(" \t\r\n;"u8).IsEmpty)
            {
                throw ChdbException.Syntax("Empty query");
            }

            var started = Stopwatch.GetTimestamp();
            using var lease = Connect(request, out var connection);
            var connected = Stopwatch.GetElapsedTime(started);
            var analysis = connection.Classify(sql);
            var classified = Stopwatch.GetElapsedTime(started);
            using var slow = new SlowRequestLog(logger, request.QueryId, connected, classified, started);
            if (analysis.StatementCount > 1)
            {
                throw ChdbException.Syntax("Multi-statements are not allowed: send one statement per request");
            }

            if (readOnly && analysis.QueryClass != ChdbNative.QueryClassReadOnly)
            {
                throw new ChdbException(164,
                    "Code: 164. DB::Exception: Cannot execute query in readonly mode: a GET request may only read, use POST. (READONLY)");
            }

            if (sqlHead.IsInsertWithData)
            {
                var data = head.Buffer.AsMemory(sqlHead.DataStart, head.Length - sqlHead.DataStart);
                await Insert(context, request, connection, sql, sqlHead.InputFormat!, data, body);
                return;
            }

            var format = ResultFormat.Of(sqlHead.OutputFormat ?? request.DefaultFormat);
            if (format.IsStreamable && analysis.QueryClass == ChdbNative.QueryClassReadOnly &&
                await TryStream(context, request, connection, sql, format, tag))
            {
                return;
            }

            await RunBuffered(context, request, connection, sql, format);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head.Buffer);
        }
    }

    /// <summary>A fresh connection per request (settings apply to it alone), or the session's own.</summary>
    private IDisposable Connect(ClickHouseRequest request, out ChdbConnection connection)
    {
        IDisposable lease;
        if (request.SessionId is { } sessionId)
        {
            var session = sessions.Acquire(sessionId, request.SessionTimeout);
            connection = session.Connection;
            lease = session;
        }
        else
        {
            connection = engine.Connect(null);
            lease = connection;
        }

        try
        {
            if (request.Database is { } database)
            {
                RunStatement(connection, "USE " + ClickHouseRequest.QuoteIdentifier(database));
            }

            foreach (var statement in request.SettingStatements())
            {
                RunStatement(connection, statement);
            }
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        return lease;
    }

    private static void RunStatement(ChdbConnection connection, string sql)
    {
        using var result = connection.Query(sql, "TabSeparated", []);
        result.ThrowIfError();
    }

    private async Task Insert(HttpContext context, ClickHouseRequest request, ChdbConnection connection,
        byte[] sql, string format, ReadOnlyMemory<byte> firstData, Stream body)
    {
        using var insert = connection.StartInsert(sql, format, request.Parameters);
        if (insert.Error is { } initError)
        {
            throw ChdbException.FromMessage(initError);
        }

        var committed = false;
        try
        {
            if (!firstData.IsEmpty)
            {
                insert.Append(firstData.Span);
            }

            var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
            try
            {
                int read;
                while ((read = await ReadFull(body, buffer, context.RequestAborted)) > 0)
                {
                    insert.Append(buffer.AsSpan(0, read));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            using var result = insert.Complete();
            committed = true;
            result.ThrowIfError();
            WriteSummary(context.Response, result, resultRows: 0);
            context.Response.StatusCode = StatusCodes.Status200OK;
        }
        finally
        {
            if (!committed)
            {
                // A truncated or unreadable body cancels the insert: ClickHouse-default, nothing of it is committed.
                insert.Cancel();
            }
        }
    }

    /// <summary>Streams the result chunk by chunk: the next chunk is fetched only after the previous one was
    /// written (back-pressure), and a client that goes away cancels the engine query.</summary>
    private async Task<bool> TryStream(HttpContext context, ClickHouseRequest request, ChdbConnection connection,
        byte[] sql, ResultFormat format, string tag)
    {
        using var stream = connection.StartStream(sql, format.Name, request.Parameters);
        if (stream.Error is { } initError)
        {
            var error = ChdbException.FromMessage(initError);
            if (error.Code == 36 && initError.Contains("Streaming query is not supported", StringComparison.Ordinal))
            {
                return false; // SHOW, DESCRIBE and the like: run buffered
            }

            throw error;
        }

        var response = context.Response;
        Stream? output = null;
        var completed = false;
        ulong rows = 0, bytes = 0;
        try
        {
            for (var first = true; ; first = false)
            {
                context.RequestAborted.ThrowIfCancellationRequested();
                using var chunk = connection.Fetch(stream);
                if (chunk.Error is { } fetchError)
                {
                    var error = ChdbException.FromMessage(fetchError);
                    if (output is null)
                    {
                        throw error;
                    }

                    await WriteInBandException(context, output, error, tag);
                    completed = true;
                    return true;
                }

                var data = chunk.Data;
                rows += chunk.RowsRead;
                bytes += chunk.BytesRead;
                if (data.IsEmpty)
                {
                    break;
                }

                if (output is null)
                {
                    StartResponse(response, format);
                    output = ResponseBody(context, request);
                }

                var payload = first ? data : data[format.HeaderLength(data)..];
                await WriteChunk(output, payload, context.RequestAborted);
            }

            if (output is null)
            {
                StartResponse(response, format);
                output = ResponseBody(context, request);
            }

            completed = true;
        }
        finally
        {
            if (!completed)
            {
                connection.Cancel(stream);
            }

            if (output is not null && output != response.Body)
            {
                await output.DisposeAsync();
            }
        }

        return true;
    }

    private async Task RunBuffered(HttpContext context, ClickHouseRequest request, ChdbConnection connection,
        byte[] sql, ResultFormat format)
    {
        using var result = connection.Query(sql, format.Name, request.Parameters);
        result.ThrowIfError();
        StartResponse(context.Response, format);
        WriteSummary(context.Response, result, result.RowsRead);
        var output = ResponseBody(context, request);
        try
        {
            await WriteChunk(output, result.Data, context.RequestAborted);
        }
        finally
        {
            if (output != context.Response.Body)
            {
                await output.DisposeAsync();
            }
        }
    }

    private static void StartResponse(HttpResponse response, ResultFormat format)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = format.ContentType;
        response.Headers["X-ClickHouse-Format"] = format.Name;
    }

    private static Stream ResponseBody(HttpContext context, ClickHouseRequest request)
    {
        if (!request.CompressResponse || HttpCompression.Choose(context.Request.Headers.AcceptEncoding.ToString()) is not { } encoding)
        {
            return context.Response.Body;
        }

        context.Response.Headers.ContentEncoding = encoding;
        return HttpCompression.EncodeResponse(context.Response.Body, encoding);
    }

    /// <summary>The engine's buffer lives only as long as its result, so the bytes are copied into a pooled
    /// buffer before the asynchronous write.</summary>
    private static Task WriteChunk(Stream output, ReadOnlySpan<byte> data, CancellationToken cancellation)
    {
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(1, data.Length));
        data.CopyTo(rented);
        return WriteAndReturn(output, rented, data.Length, cancellation);

        static async Task WriteAndReturn(Stream output, byte[] rented, int length, CancellationToken cancellation)
        {
            try
            {
                await output.WriteAsync(rented.AsMemory(0, length), cancellation);
                await output.FlushAsync(cancellation);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static void WriteSummary(HttpResponse response, ChdbResult result, ulong resultRows)
    {
        if (response.HasStarted)
        {
            return;
        }

        var elapsedNs = (ulong)(result.Elapsed * 1e9);
        response.Headers["X-ClickHouse-Summary"] = string.Create(CultureInfo.InvariantCulture,
            $"{{\"read_rows\":\"{result.RowsRead}\",\"read_bytes\":\"{result.BytesRead}\",\"written_rows\":\"{result.RowsWritten}\"," +
            $"\"written_bytes\":\"{result.BytesWritten}\",\"total_rows_to_read\":\"{result.RowsRead}\",\"result_rows\":\"{resultRows}\"," +
            $"\"result_bytes\":\"{result.Data.Length}\",\"elapsed_ns\":\"{elapsedNs}\"}}");
    }

    /// <summary>Reads the SQL (and, for an INSERT, the start of its data) up to the query size limit,
    /// growing a pooled buffer as needed so small queries stay cheap.</summary>
    private async Task<Head> ReadHead(ClickHouseRequest request, Stream body, CancellationToken cancellation)
    {
        var prefix = request.Query is { Length: > 0 } q ? Encoding.UTF8.GetBytes(q + "\n") : [];
        var limit = options.MaxQueryBytes + prefix.Length + 1;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit, Math.Max(prefix.Length + 1, 64 * 1024)));
        prefix.CopyTo(buffer, 0);
        var length = prefix.Length;
        while (length < limit)
        {
            if (length == buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Min(limit, buffer.Length * 2));
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }

            var read = await body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit) - length), cancellation);
            if (read == 0)
            {
                return new Head(buffer, length, Complete: true);
            }

            length += read;
        }

        return new Head(buffer, length, Complete: false);
    }

    private static async Task<int> ReadFull(Stream body, byte[] buffer, CancellationToken cancellation)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await body.ReadAsync(buffer.AsMemory(filled), cancellation);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled;
    }

    private async Task Fail(HttpContext context, ChdbException error, string tag)
    {
        logger.LogDebug("Query failed with code {Code}: {Message}", error.Code, error.Message);
        var response = context.Response;
        if (response.HasStarted)
        {
            await WriteInBandException(context, response.Body, error, tag);
            return;
        }

        response.Headers.ContentEncoding = default;
        response.StatusCode = StatusFor(error.Code);
        response.ContentType = "text/plain; charset=UTF-8";
        response.Headers["X-ClickHouse-Exception-Code"] = error.Code.ToString(CultureInfo.InvariantCulture);
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(WithVersion(error.Message) + "\n"));
    }

    /// <summary>ClickHouse 25.11+'s in-band error: <c>__exception__\r\n{tag}\r\n{message}\n{size} {tag}\r\n__exception__\r\n</c>,
    /// then the connection is cut so the client cannot mistake the truncated result for a whole one.</summary>
    private async Task WriteInBandException(HttpContext context, Stream output, ChdbException error, string tag)
    {
        var message = WithVersion(error.Message);
        var block = $"__exception__\r\n{tag}\r\n{message}\n{Encoding.UTF8.GetByteCount(message)} {tag}\r\n__exception__\r\n";
        try
        {
            await output.WriteAsync(Encoding.UTF8.GetBytes(block));
            await output.FlushAsync();
            if (output != context.Response.Body)
            {
                await context.Response.Body.FlushAsync();
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            logger.LogDebug("Client went away before the in-band error was written");
        }

        // Half-close first: the client reads every byte already sent (the block included), then finds the chunked
        // body cut short. An abort alone may reset the connection before those bytes are read, and the client would
        // see a bare connection error instead of the server's exception. A flush only hands the bytes to Kestrel's
        // transport, which sends them on its own schedule, so give it a moment first: this path is rare and the
        // request is failing anyway.
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        try
        {
            context.Features.Get<IConnectionSocketFeature>()?.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // already gone
        }

        context.Abort();
    }

    private string WithVersion(string message) =>
        message.Contains("(version ", StringComparison.Ordinal) ? message : $"{message} (version {engine.Version} (chDB))";

    private static int StatusFor(int code) => code switch
    {
        516 => StatusCodes.Status401Unauthorized,
        60 or 81 => StatusCodes.Status404NotFound,
        164 => StatusCodes.Status403Forbidden,
        373 => StatusCodes.Status423Locked,
        210 => StatusCodes.Status503ServiceUnavailable,
        27 or 36 or 38 or 41 or 43 or 44 or 46 or 47 or 53 or 62 or 69 or 70 or 72 or 89 or 115 or 117 or 130 or 456 or 457 =>
            StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status500InternalServerError,
    };

    private static string ExceptionTag() =>
        string.Create(16, Random.Shared, static (span, random) =>
        {
            const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[random.Next(alphabet.Length)];
            }
        });

    private readonly record struct Head(byte[] Buffer, int Length, bool Complete);

    /// <summary>Names where a slow request's time went (connect, parse, run) so a stall can be told from a slow query.</summary>
    private readonly struct SlowRequestLog(ILogger logger, string queryId, TimeSpan connected, TimeSpan classified, long started) : IDisposable
    {
        public void Dispose()
        {
            var total = Stopwatch.GetElapsedTime(started);
            if (total > TimeSpan.FromSeconds(1))
            {
                logger.LogInformation("Slow request {QueryId}: {Total:F0} ms (connect {Connect:F0} ms, classify {Classify:F0} ms, run and send {Run:F0} ms)",
                    queryId, total.TotalMilliseconds, connected.TotalMilliseconds, (classified - connected).TotalMilliseconds,
                    (total - classified).TotalMilliseconds);
            }
        }
    }
}
