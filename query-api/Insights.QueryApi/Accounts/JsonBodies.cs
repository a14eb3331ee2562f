using System.Text.Json;
using Insights.QueryApi.Apis;
using Insights.QueryApi.Pipeline;

namespace Insights.QueryApi.Accounts;

/// <summary>
/// Request bodies of the accounts endpoints: JSON, at most <see cref="MaxBytes"/> (<see cref="RequestBodies"/>), so that
/// a body too large is a 413 and malformed JSON a 400, each with a reason, rather than the framework's binder answering in its own words.
/// </summary>
internal static class JsonBodies
{
    public const int MaxBytes = 16 * 1024;

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { AllowTrailingCommas = false, MaxDepth = 8 };

    public static Task<(T? Value, QueryProblem? Problem)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken) where T : class =>
        ReadAsync<T>(request, MaxBytes, Options, cancellationToken);

    /// <summary>A body of another bound and nesting (invitation rules: condition trees, up to 50 rules).</summary>
    public static async Task<(T? Value, QueryProblem? Problem)> ReadAsync<T>(HttpRequest request, int maxBytes, JsonSerializerOptions options,
        CancellationToken cancellationToken) where T : class
    {
        var (body, tooLarge) = await RequestBodies.ReadAsync(request, maxBytes, cancellationToken);
        if (tooLarge)
        {
            return (null, TooLarge(maxBytes));
        }

        try
        {
            return JsonSerializer.Deserialize<T>(body.Span, options) is { } value
                ? (value, null)
                : (null, QueryProblem.Invalid("body", "a JSON object is required"));
        }
        catch (JsonException e)
        {
            return (null, QueryProblem.Invalid("body", $"not valid JSON for this request: {e.Path ?? "$"}"));
        }
    }

    private static QueryProblem TooLarge(int maxBytes) => new(StatusCodes.Status413PayloadTooLarge, "body_too_large", "The body is too large",
        $"This request's body is at most {maxBytes} bytes.");
}
