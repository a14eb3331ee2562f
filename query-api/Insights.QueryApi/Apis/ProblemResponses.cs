using System.Globalization;
using Insights.QueryApi.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Insights.QueryApi.Apis;

/// <summary>
/// The edge's exception mapping: ClickHouse unreachable, too slow or without its schema is a 503 with Retry-After
/// and a detail saying which; anything else falls through to the default handler's 500 problem details.
/// </summary>
public sealed class StorageUnavailableHandler(IProblemDetailsService problems, IOptions<QueryApiOptions> options, ILogger<StorageUnavailableHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (exception is not StorageUnavailableException unavailable)
        {
            return false;
        }

        logger.StorageUnavailable(unavailable.Reason, unavailable.QueryName, unavailable.Message, unavailable.InnerException ?? unavailable);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers[HeaderNames.RetryAfter] = options.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = unavailable.Failure == StorageFailure.SchemaMissing ? "The reports database is not set up yet" : "The reports database is unavailable",
                Detail = unavailable.Message,
                Extensions = { ["reason"] = unavailable.Reason },
            },
        });
    }
}
