using System.ComponentModel.DataAnnotations;

namespace Insights.QueryApi;

/// <summary>Limits and defaults of the report endpoints (section <c>QueryApi</c>).</summary>
public sealed class QueryApiOptions : IValidatableObject
{
    public const string Section = "QueryApi";

    /// <summary>Days covered when a request names neither <c>from</c> nor <c>to</c>.</summary>
    [Range(1, 3660)]
    public int DefaultRangeDays { get; set; } = 7;

    /// <summary>Longest range one request may ask for. Longer lets a report scan more of the table per request.</summary>
    [Range(1, 3660)]
    public int MaxRangeDays { get; set; } = 400;

    /// <summary>Longest range with an hourly series; bounds the buckets a response carries (31 days = 744 hours).</summary>
    [Range(1, 3660)]
    public int MaxHourlyRangeDays { get; set; } = 31;

    /// <summary>Rows in a top list (pages, referrers) when the request gives no <c>limit</c>.</summary>
    [Range(1, 10_000)]
    public int DefaultLimit { get; set; } = 10;

    /// <summary>Largest <c>limit</c> a request may ask for. Larger means bigger responses and sorts.</summary>
    [Range(1, 10_000)]
    public int MaxLimit { get; set; } = 100;

    /// <summary>ClickHouse max_execution_time of one report query; past it the request answers 503 instead of holding a connection.</summary>
    [Range(1, 3600)]
    public int QueryTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Niceness (ClickHouse <c>os_thread_priority</c>, 0-19) of the threads running report queries: higher lets a
    /// report yield the CPU to inserts and merges on the same server, and on a single machine (scripts/run.sh) to
    /// ingest, the broker and the processors, so a busy dashboard slows itself rather than the 202s. 0 leaves them as
    /// they are.
    /// </summary>
    [Range(0, 19)]
    public int QueryThreadPriority { get; set; }

    /// <summary>Retry-After on a 503 (ClickHouse unreachable or its schema not created yet).</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 5;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DefaultLimit > MaxLimit)
        {
            yield return new ValidationResult($"{Section}:DefaultLimit ({DefaultLimit}) must not exceed {Section}:MaxLimit ({MaxLimit})", [nameof(DefaultLimit)]);
        }

        if (DefaultRangeDays > MaxRangeDays)
        {
            yield return new ValidationResult($"{Section}:DefaultRangeDays ({DefaultRangeDays}) must not exceed {Section}:MaxRangeDays ({MaxRangeDays})", [nameof(DefaultRangeDays)]);
        }

        if (MaxHourlyRangeDays > MaxRangeDays)
        {
            yield return new ValidationResult($"{Section}:MaxHourlyRangeDays ({MaxHourlyRangeDays}) must not exceed {Section}:MaxRangeDays ({MaxRangeDays})", [nameof(MaxHourlyRangeDays)]);
        }
    }
}
