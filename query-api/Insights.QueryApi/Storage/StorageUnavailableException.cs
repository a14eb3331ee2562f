namespace Insights.QueryApi.Storage;

/// <summary>Why ClickHouse could not answer; also the <c>reason</c> tag of the error metric.</summary>
public enum StorageFailure
{
    /// <summary>Not reachable, refused the connection, or said it is down.</summary>
    Unavailable,

    /// <summary>The query ran past its time limit or the server was too busy to start it.</summary>
    Timeout,

    /// <summary>The database or the events table does not exist: the processors have not migrated yet.</summary>
    SchemaMissing,
}

/// <summary>ClickHouse cannot answer now, through no fault of the request: answered 503 with Retry-After.</summary>
public sealed class StorageUnavailableException(StorageFailure failure, string queryName, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    public StorageFailure Failure { get; } = failure;

    /// <summary>The report query that failed (<c>stats.page_views</c>), for the log line.</summary>
    public string QueryName { get; } = queryName;

    public string Reason => ReasonOf(Failure);

    public static string ReasonOf(StorageFailure failure) => failure switch
    {
        StorageFailure.Unavailable => "clickhouse_unavailable",
        StorageFailure.Timeout => "clickhouse_timeout",
        StorageFailure.SchemaMissing => "schema_missing",
        _ => "clickhouse_unavailable",
    };
}
