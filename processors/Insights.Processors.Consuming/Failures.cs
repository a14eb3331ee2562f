using System.Net.Sockets;
using ClickHouse.Driver;
using Confluent.Kafka;

namespace Insights.Processors.Consuming;

/// <summary>What a failed attempt means for the batch.</summary>
public enum FailureKind
{
    /// <summary>A dependency is down or slow (ClickHouse unreachable, timing out, busy; Kafka not acknowledging):
    /// the same batch will succeed later, so pause, back off and retry it.</summary>
    Outage,

    /// <summary>Something in the batch is refused (data ClickHouse cannot take, a request too long or too large, a
    /// handler error on particular events): retrying cannot help, splitting can.</summary>
    Rejected,

    /// <summary>Nothing this loop can fix (schema missing, access refused, a fatal Kafka error): stop the host.</summary>
    Fatal,
}

/// <summary>
/// The one classification of failures for every consumer group. Errors are told apart by what ClickHouse says
/// (its code), not by where they came from: a batch that keeps failing for a reason that is not an outage must not
/// stall its partitions forever (the HTTP 414 of an oversized lookup once did, classed as transient).
/// </summary>
public static class Failures
{
    /// <summary>Server or cluster cannot serve now: SOCKET_TIMEOUT, NETWORK_ERROR, TIMEOUT_EXCEEDED,
    /// TOO_MANY_SIMULTANEOUS_QUERIES, MEMORY_LIMIT_EXCEEDED, NO_ZOOKEEPER, TOO_MANY_PARTS, READONLY replica,
    /// ALL_CONNECTION_TRIES_FAILED, ALL_REPLICAS_ARE_STALE, QUERY_WAS_CANCELLED, KEEPER_EXCEPTION, and a proxy's
    /// 502/503/504 page (the driver reads the first number of an error body as its code).</summary>
    private static readonly HashSet<int> OutageCodes = [159, 202, 209, 210, 225, 241, 242, 252, 279, 369, 394, 502, 503, 504, 999];

    /// <summary>The deployment is wrong, not the data: NO_SUCH_COLUMN_IN_TABLE, UNKNOWN_TABLE, UNKNOWN_DATABASE,
    /// READONLY, ACCESS_DENIED, AUTHENTICATION_FAILED. Dead-lettering every event would hide it.</summary>
    private static readonly HashSet<int> FatalCodes = [16, 60, 81, 164, 497, 516];

    public static FailureKind Classify(Exception error, CancellationToken stoppingToken) => error switch
    {
        // A timeout of our own (the stop token is the only other source of cancellation).
        OperationCanceledException => stoppingToken.IsCancellationRequested ? FailureKind.Fatal : FailureKind.Outage,
        ClickHouseServerException e when OutageCodes.Contains(e.ErrorCode) => FailureKind.Outage,
        ClickHouseServerException e when FatalCodes.Contains(e.ErrorCode) => FailureKind.Fatal,
        // Any other answer from the server (bad data codes, or no code at all: an HTTP layer refusing a URI or body
        // that is too large, 414/413/431, answers with an empty body) is about this request's contents.
        ClickHouseServerException => FailureKind.Rejected,
        HttpRequestException or IOException or SocketException or TimeoutException => FailureKind.Outage,
        ProduceException<byte[]?, byte[]?> produce when produce.Error.Code is ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsgSize
            => FailureKind.Rejected,
        KafkaException kafka => kafka.Error.IsFatal ? FailureKind.Fatal : FailureKind.Outage,
        AggregateException aggregate => Worst(aggregate.InnerExceptions, stoppingToken),
        OutOfMemoryException or ObjectDisposedException or InsufficientExecutionStackException => FailureKind.Fatal,
        _ => FailureKind.Rejected,
    };

    /// <summary>The dead-letter reason for a message isolated by this failure: a short fixed word for the metric tag.</summary>
    public static string ReasonOf(Exception error) => error switch
    {
        ClickHouseServerException { ErrorCode: <= 0 } => "request_refused",
        ClickHouseServerException => "clickhouse_rejected",
        ProduceException<byte[]?, byte[]?> => "too_large_for_kafka",
        AggregateException { InnerExceptions.Count: > 0 } aggregate => ReasonOf(aggregate.InnerExceptions[0]),
        _ => "handler_failed",
    };

    /// <summary>Human detail for the dead-letter header: the type and message (ClickHouse's include its code).</summary>
    public static string DetailOf(Exception error) => $"{error.GetType().Name}: {error.Message}";

    private static FailureKind Worst(IEnumerable<Exception> errors, CancellationToken stoppingToken)
    {
        var worst = FailureKind.Outage;
        foreach (var error in errors)
        {
            var kind = Classify(error, stoppingToken);
            if (kind > worst)
            {
                worst = kind;
            }
        }

        return worst;
    }
}
