using System.Diagnostics.Metrics;
using Insights.ServiceDefaults;

namespace Insights.QueryApi;

/// <summary>The query API's own instruments (meter <c>Insights.QueryApi</c>, exported at /metrics).</summary>
public sealed class QueryApiMetrics
{
    public static readonly string MeterName = InsightsTelemetry.NameFor("QueryApi");

    // Seconds, 5 ms up to the default 30 s query timeout: one set for the report and statement histograms, so they compare.
    private static readonly InstrumentAdvice<double> LatencyBuckets = new() { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] };

    private readonly Histogram<double> queryDuration;
    private readonly Histogram<double> statementDuration;
    private readonly Counter<long> clickHouseErrors;

    public QueryApiMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        queryDuration = meter.CreateHistogram<double>(
            "insights.queryapi.query.duration", unit: "s",
            description: "Time to answer a report query, from the pipeline's start to its result, by endpoint and status.",
            advice: LatencyBuckets);
        statementDuration = meter.CreateHistogram<double>(
            "insights.queryapi.statement.duration", unit: "s",
            description: "Time of one ClickHouse statement of a report, from sending it to its last row, by statement (stats.page_views, goals.completions, ...): which part of a slow report is slow.",
            advice: LatencyBuckets);
        clickHouseErrors = meter.CreateCounter<long>(
            "insights.queryapi.clickhouse.errors", unit: "{error}",
            description: "ClickHouse queries that failed, by reason (unavailable, timeout, schema_missing, query_failed).");

        // Exported at 0 from the start: dashboards and alerts see every series before its first failure.
        foreach (var reason in (string[])["unavailable", "timeout", "schema_missing", "query_failed"])
        {
            clickHouseErrors.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void QueryAnswered(string endpoint, int status, TimeSpan elapsed) =>
        queryDuration.Record(elapsed.TotalSeconds,
            new KeyValuePair<string, object?>("endpoint", endpoint),
            new KeyValuePair<string, object?>("status", status));

    /// <summary><paramref name="statement"/> is one of the code's constant statement names, never a value from a request.</summary>
    public void StatementRan(string statement, TimeSpan elapsed) =>
        statementDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("statement", statement));

    public void ClickHouseFailed(string reason) =>
        clickHouseErrors.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
