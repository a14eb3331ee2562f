using System.Diagnostics;
using Insights.QueryApi.Storage;
using Mediator;

namespace Insights.QueryApi.Pipeline;

/// <summary>Times every query, refused or answered, by endpoint and status (the outermost step, so refusals count too).</summary>
public sealed class QueryMetricsBehavior<TMessage, TResponse>(QueryApiMetrics metrics) : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IBaseQuery, IMessage
    where TResponse : IQueryOutcome<TResponse>
{
    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        var started = Stopwatch.GetTimestamp();
        var status = StatusCodes.Status500InternalServerError;
        try
        {
            var response = await next(message, cancellationToken);
            status = response.Problem?.Status ?? StatusCodes.Status200OK;
            return response;
        }
        catch (StorageUnavailableException)
        {
            status = StatusCodes.Status503ServiceUnavailable;
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            status = StatusCodes.Status499ClientClosedRequest; // the caller left; not a server error
            throw;
        }
        finally
        {
            metrics.QueryAnswered(QueryNames.Of<TMessage>(), status, Stopwatch.GetElapsedTime(started));
        }
    }
}

/// <summary>A query type's short name for metrics and logs: <c>StatsQuery</c> → <c>stats</c>.</summary>
internal static class QueryNames
{
    public static string Of<TMessage>() => Cache<TMessage>.Name;

    private static class Cache<TMessage>
    {
        public static readonly string Name = Shorten(typeof(TMessage).Name);

        private static string Shorten(string name) =>
            (name.EndsWith("Query", StringComparison.Ordinal) ? name[..^"Query".Length] : name).ToLowerInvariant();
    }
}
