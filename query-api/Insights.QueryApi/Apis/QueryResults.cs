using Insights.QueryApi.Pipeline;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Insights.QueryApi.Apis;

/// <summary>Query outcomes to HTTP, the one mapping every endpoint shares: a value is 200, invalid parameters are a
/// validation problem (400, an entry per parameter), every other refusal a problem with its status and reason.</summary>
public static class QueryResults
{
    public static Results<Ok<T>, ValidationProblem, ProblemHttpResult> ToHttpResult<T>(this QueryOutcome<T> outcome, HttpResponse response)
        where T : class => outcome.ToHttpResult(response, TypedResults.Ok);

    /// <summary>As above, with the value's own result (a stream rather than a JSON body).</summary>
    public static Results<TResult, ValidationProblem, ProblemHttpResult> ToHttpResult<T, TResult>(this QueryOutcome<T> outcome, HttpResponse response,
        Func<T, TResult> answer)
        where T : class
        where TResult : IResult
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(answer);

        if (outcome.Problem is not { } problem)
        {
            return answer(outcome.Value!);
        }

        var extensions = new Dictionary<string, object?> { ["reason"] = problem.Reason };
        if (problem.Errors is { } errors)
        {
            return TypedResults.ValidationProblem(errors, problem.Detail, title: problem.Title, extensions: extensions);
        }

        if (problem.Status == StatusCodes.Status401Unauthorized)
        {
            response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        }

        return TypedResults.Problem(problem.Detail, statusCode: problem.Status, title: problem.Title, extensions: extensions);
    }
}
