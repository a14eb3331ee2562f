using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO.Parameters;
using Insights.Storage;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Storage;

/// <summary>
/// Access to the Insights database over the app's one <see cref="ClickHouseClient"/> (thread-safe, pools its
/// HTTP connections): reports read; subject requests also delete a person's rows and write their audit record. Every
/// statement goes through here, so ClickHouse failures are classified and
/// counted in one place and leave as <see cref="StorageUnavailableException"/> or, for a broken query, as they came
/// (the edge logs each failed request once, however many of its queries failed).
/// </summary>
public sealed class ReportsDatabase(
    ClickHouseClient client,
    IOptions<ClickHouseStorageOptions> storage,
    IOptions<QueryApiOptions> options,
    QueryApiMetrics metrics)
{
    /// <summary>UNKNOWN_TABLE, UNKNOWN_DATABASE: the schema is not there (yet).</summary>
    private static readonly HashSet<int> SchemaMissingCodes = [60, 81];

    /// <summary>SOCKET_TIMEOUT, NETWORK_ERROR, NO_ZOOKEEPER, ALL_CONNECTION_TRIES_FAILED, ALL_REPLICAS_ARE_STALE: the server or its cluster cannot serve now.</summary>
    private static readonly HashSet<int> UnavailableCodes = [209, 210, 225, 279, 369];

    /// <summary>TIMEOUT_EXCEEDED, TOO_MANY_SIMULTANEOUS_QUERIES, MEMORY_LIMIT_EXCEEDED: busy, worth retrying later.</summary>
    private static readonly HashSet<int> BusyCodes = [159, 202, 241];

    /// <summary>Past max_execution_time, how long to wait for ClickHouse to say so before giving up on it ourselves.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private readonly string database = storage.Value.Database;
    private readonly TimeSpan timeout = TimeSpan.FromSeconds(options.Value.QueryTimeoutSeconds);
    private readonly int threadPriority = options.Value.QueryThreadPriority;

    public string Database => database;

    /// <summary>Runs a parameterized SELECT and maps each row. <paramref name="sql"/> must be a constant: values go in <paramref name="parameters"/>.</summary>
    public async Task<List<T>> QueryAsync<T>(string queryName, string sql, ClickHouseParameterCollection parameters,
        Func<DbDataReader, T> map, CancellationToken cancellationToken, TimeSpan? timeLimit = null)
    {
        var rows = new List<T>();
        await foreach (var row in StreamAsync(queryName, sql, parameters, map, cancellationToken, timeLimit))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>
    /// Runs a parameterized SELECT and yields each row as it arrives, so a large answer is never held in memory. A
    /// failure before the first row leaves as <see cref="StorageUnavailableException"/> like any query's; one after it
    /// ends the enumeration with the same exception, and a caller that already answered can only cut its response.
    /// </summary>
    public async IAsyncEnumerable<T> StreamAsync<T>(string queryName, string sql, ClickHouseParameterCollection parameters,
        Func<DbDataReader, T> map, [EnumeratorCancellation] CancellationToken cancellationToken, TimeSpan? timeLimit = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        var limit = timeLimit ?? timeout;

        // max_execution_time bounds a slow query; this bounds a server that does not answer at all, which would
        // otherwise hold the request for the HTTP client's own, much longer, timeout.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit + Grace);
        var started = Stopwatch.GetTimestamp();
        DbDataReader reader;
        try
        {
            reader = await client.ExecuteReaderAsync(sql, parameters, QueryOptions(limit), deadline.Token);
        }
        catch (Exception error) when (Failed(queryName, error, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }

        using var timed = new StatementTimer(metrics, queryName, started);
        using (reader)
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await reader.ReadAsync(deadline.Token);
                }
                catch (Exception error) when (Failed(queryName, error, cancellationToken) is { } unavailable)
                {
                    throw unavailable;
                }

                if (!more)
                {
                    yield break;
                }

                yield return map(reader);
            }
        }
    }

    /// <summary>Runs a parameterized statement that returns no rows (a lightweight DELETE). Constant SQL, as for queries.</summary>
    public async Task ExecuteAsync(string queryName, string sql, ClickHouseParameterCollection parameters,
        IReadOnlyDictionary<string, object> settings, TimeSpan timeLimit, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeLimit + Grace);
        var options = QueryOptions(timeLimit);
        foreach (var (name, value) in settings)
        {
            options.CustomSettings![name] = value;
        }

        try
        {
            await client.ExecuteNonQueryAsync(sql, parameters, options, deadline.Token);
        }
        catch (Exception error) when (Failed(queryName, error, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <summary>Inserts rows with explicit column types (the driver then never asks the server for them).</summary>
    public async Task InsertAsync(string queryName, string table, string[] columns, IReadOnlyDictionary<string, string> columnTypes,
        IEnumerable<object?[]> rows, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout + Grace);
        try
        {
            await client.InsertBinaryAsync(table, columns, rows, new InsertOptions
            {
                Database = database,
                ColumnTypes = columnTypes.ToDictionary(),
                Compressor = client.InsertCompressor(),
            }, deadline.Token);
        }
        catch (Exception error) when (Failed(queryName, error, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <summary>Null when ClickHouse answers and the events table exists; otherwise what is wrong, for readiness.</summary>
    public async Task<string?> ProblemAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await client.PingAsync(cancellationToken: cancellationToken))
            {
                return "ClickHouse does not answer its ping.";
            }

            var exists = await client.ExecuteScalarAsync("EXISTS TABLE events", options: QueryOptions(), cancellationToken: cancellationToken);
            return Convert.ToInt32(exists, System.Globalization.CultureInfo.InvariantCulture) == 1 ? null : SchemaMissingMessage();
        }
        catch (Exception error) when (Classify(error, cancellationToken) is { } failure)
        {
            return failure == StorageFailure.SchemaMissing ? SchemaMissingMessage() : $"ClickHouse is unavailable: {error.Message}";
        }
    }

    /// <summary>
    /// The failure as the edge answers it: an outage becomes <see cref="StorageUnavailableException"/> (503), a broken
    /// statement is counted and left as it came (500); null for the caller's own cancellation. Counted once either way.
    /// </summary>
    private StorageUnavailableException? Failed(string queryName, Exception error, CancellationToken cancellationToken)
    {
        if (Classify(error, cancellationToken) is { } failure)
        {
            return Unavailable(queryName, failure, error);
        }

        if (error is ClickHouseServerException)
        {
            metrics.ClickHouseFailed("query_failed");
        }

        return null;
    }

    private QueryOptions QueryOptions(TimeSpan? timeLimit = null)
    {
        // Copies of a replayed event always share a monthly partition (same timestamp), so FINAL may collapse each
        // partition on its own, in parallel, instead of merging across all of them.
        var settings = new Dictionary<string, object> { ["do_not_merge_across_partitions_select_final"] = 1 };
        if (threadPriority > 0)
        {
            settings["os_thread_priority"] = threadPriority;
        }

        return new() { Database = database, MaxExecutionTime = timeLimit ?? timeout, CustomSettings = settings };
    }

    private StorageUnavailableException Unavailable(string queryName, StorageFailure failure, Exception error)
    {
        metrics.ClickHouseFailed(StorageUnavailableException.ReasonOf(failure));
        return new StorageUnavailableException(failure, queryName, failure switch
        {
            StorageFailure.SchemaMissing => SchemaMissingMessage(),
            StorageFailure.Timeout => "ClickHouse did not answer in time or is too busy; retry shortly.",
            _ => "ClickHouse is unreachable; retry shortly.",
        }, error);
    }

    private string SchemaMissingMessage() =>
        $"The events table does not exist in ClickHouse database '{database}' yet: the processors create the schema " +
        "when they start. Start the processors (or wait until they have migrated) and retry.";

    /// <summary>
    /// A failure the caller cannot fix and a retry may: unreachable, timed out, busy, schema missing. Null for a
    /// query error (our bug: 500) and for the caller's own cancellation (the client went away).
    /// </summary>
    private static StorageFailure? Classify(Exception error, CancellationToken cancellationToken) => error switch
    {
        ClickHouseServerException e when SchemaMissingCodes.Contains(e.ErrorCode) => StorageFailure.SchemaMissing,
        ClickHouseServerException e when UnavailableCodes.Contains(e.ErrorCode) => StorageFailure.Unavailable,
        ClickHouseServerException e when BusyCodes.Contains(e.ErrorCode) => StorageFailure.Timeout,
        ClickHouseServerException => null,
        HttpRequestException => StorageFailure.Unavailable,
        IOException => StorageFailure.Unavailable,
        OperationCanceledException when !cancellationToken.IsCancellationRequested => StorageFailure.Timeout,
        _ => null,
    };
}

/// <summary>Records a statement's time, from sending it until its rows were read (or the reader was let go), once.</summary>
internal readonly struct StatementTimer(QueryApiMetrics metrics, string statement, long started) : IDisposable
{
    public void Dispose() => metrics.StatementRan(statement, Stopwatch.GetElapsedTime(started));
}
