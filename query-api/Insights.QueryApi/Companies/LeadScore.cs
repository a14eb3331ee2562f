using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;

namespace Insights.QueryApi.Companies;

/// <summary>
/// The lead score as SQL over <c>sessions</c> rows, written once for every report that scores companies (a site's
/// company list, a partner's roll-up over its clients): aggregate expressions to place in a <c>GROUP BY</c> query
/// and the typed parameters they read, from <see cref="LeadScoreOptions"/>.
/// </summary>
internal static class LeadScore
{
    /// <summary>
    /// <c>points</c>: every visit's points, halved every half-life between its start and <c>{reference}</c> (the range's
    /// end, or now). A page earns the weight of the heaviest high-intent path it falls under (the path itself or below it).
    /// </summary>
    public const string Points = """
            sum(
                pow(0.5, greatest(dateDiff('second', started_at, {reference:DateTime64(3, 'UTC')}), 0) / 86400 / {half_life:Float64})
                * ({visit_weight:Float64}
                   + {page_view_weight:Float64} * least(greatest(toInt64(page_views) - 1, 0), {page_view_cap:Int64})
                   + arraySum(arrayMap(page -> arrayMax(arrayConcat([0.],
                         arrayMap((path, weight) -> if(lower(page) = path OR startsWith(lower(page), concat(path, '/')), weight, 0.),
                                  {intent_paths:Array(String)}, {intent_weights:Array(Float64)}))), pages)))
            ) AS points
        """;

    /// <summary><c>score</c>, 0 to 100, from the <c>points</c> column of the same SELECT.</summary>
    public const string Score = "toInt32(round(100 * (1 - exp(-points / {scale:Float64})))) AS score";

    /// <summary>Adds the weights and the reference time the expressions read.</summary>
    public static ClickHouseParameterCollection AddScoreParameters(this ClickHouseParameterCollection parameters, LeadScoreOptions leads,
        DateTimeOffset reference)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(leads);
        parameters.AddParameter("reference", reference.UtcDateTime);
        parameters.AddParameter("half_life", leads.HalfLifeDays);
        parameters.AddParameter("visit_weight", leads.VisitWeight);
        parameters.AddParameter("page_view_weight", leads.PageViewWeight);
        parameters.AddParameter("page_view_cap", (long)leads.PageViewCap);
        parameters.AddParameter("intent_paths", leads.IntentPaths());
        parameters.AddParameter("intent_weights", leads.IntentWeights());
        parameters.AddParameter("scale", leads.Scale);
        return parameters;
    }
}
