using System.ComponentModel;
using Insights.Contracts;
using Insights.QueryApi.Pipeline;
using Insights.QueryApi.Stats;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Goals;

/// <summary>The site's goals over a range: completions, conversion rates, values, chat-assisted share.</summary>
public sealed record GoalsQuery(string Site, PresentedKey Key, string? From, string? To)
    : IQuery<QueryOutcome<GoalsResponse>>, ISiteQuery<GoalsQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public GoalsQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

public sealed class GoalsQueryHandler(GoalsStore store, IOptions<QueryApiOptions> options, TimeProvider time)
    : IQueryHandler<GoalsQuery, QueryOutcome<GoalsResponse>>
{
    public async ValueTask<QueryOutcome<GoalsResponse>> Handle(GoalsQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite
            ?? throw new InvalidOperationException("GoalsQuery reached its handler unauthorized; TenantAuthorizationBehavior must run first.");

        var zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        if (!StatsRange.TryCreate(query.From, query.To, null, null, zone, time.GetUtcNow(), options.Value, out var range, out var errors))
        {
            return QueryProblem.Invalid(errors);
        }

        return await store.GetAsync(site, range, cancellationToken);
    }
}

public sealed record GoalsResponse(
    [property: Description("The site id.")] string Site,
    [property: Description("The site's IANA time zone.")] string TimeZone,
    [property: Description("Start of the range (inclusive).")] DateTimeOffset From,
    [property: Description("End of the range (exclusive).")] DateTimeOffset To,
    [property: Description("The reporting currency (ISO 4217) of the values.")] string Currency,
    [property: Description("Days before a completion in which a chat by the same person makes it chat-assisted (the site's attribution window).")] int AttributionWindowDays,
    [property: Description("Distinct visitors with a page view in the range: the denominator of every conversion rate.")] long Visitors,
    [property: Description("Every configured goal, in configuration order, with zeros when nothing completed it.")] IReadOnlyList<GoalStats> Goals);

public sealed record GoalStats(
    string Id,
    string Name,
    [property: Description("page, event, chat_started or order_placed.")] string Kind,
    [property: Description("Completions in the range (each page view, custom event, chat or order once).")] long Completions,
    [property: Description("Distinct persons (stitched visitor ids) who completed it.")] long Converted,
    [property: Description("Converted / Visitors.")] double ConversionRate,
    [property: Description("Summed value of the completions, in the reporting currency.")] decimal Value,
    [property: Description("Completions that followed a chat by the same person within the attribution window.")] long ChatAssistedCompletions,
    [property: Description("ChatAssistedCompletions / Completions.")] double ChatAssistedShare,
    [property: Description("Every day of the range in the site's time zone, empty days as zeros.")] IReadOnlyList<GoalDay> Series);

/// <summary>One day of a goal: its completions, the persons who completed it that day, their value and the chat-assisted ones.</summary>
public sealed record GoalDay(
    [property: Description("The day, in the site's time zone.")] DateOnly Date,
    [property: Description("Completions that day.")] long Completions,
    [property: Description("Distinct persons who completed it that day (a person on two days counts on each).")] long Converted,
    [property: Description("Distinct visitors with a page view that day.")] long Visitors,
    [property: Description("Converted / Visitors of the day.")] double ConversionRate,
    [property: Description("Summed value of the day's completions, in the reporting currency.")] decimal Value,
    [property: Description("The day's completions that followed a chat by the same person within the attribution window.")] long ChatAssistedCompletions);
