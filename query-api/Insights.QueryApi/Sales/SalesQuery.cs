using Insights.Contracts;
using Insights.QueryApi.Pipeline;
using Insights.QueryApi.Stats;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Sales;

/// <summary>Revenue, chat-attributed revenue under one model, and chatters' conversion for one site over a range.</summary>
public sealed record SalesQuery(string Site, PresentedKey Key, string? From, string? To, string? Model)
    : IQuery<QueryOutcome<SalesResponse>>, ISiteQuery<SalesQuery>
{
    public SiteOptions? AuthorizedSite { get; private init; }

    public SalesQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

/// <summary>The attribution models the processors credit every order under (their names on the wire and in storage).</summary>
public static class AttributionModels
{
    public const string LastChat = "last_chat";
    public const string ChatAssisted = "chat_assisted";

    public static readonly IReadOnlyList<string> All = [LastChat, "first_chat", "linear", "time_decay", ChatAssisted, "during_chat"];

    /// <summary>The <c>model</c> parameter: last_chat when absent, an error entry when not a model.</summary>
    public static string Parse(string? value, Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var model = string.IsNullOrEmpty(value) ? LastChat : value;
        if (All.Contains(model, StringComparer.Ordinal))
        {
            return model;
        }

        errors["model"] = [$"'model' must be one of {string.Join(", ", All)}."];
        return LastChat;
    }
}

public sealed class SalesQueryHandler(SalesStore store, IOptions<QueryApiOptions> options, TimeProvider time)
    : IQueryHandler<SalesQuery, QueryOutcome<SalesResponse>>
{
    public async ValueTask<QueryOutcome<SalesResponse>> Handle(SalesQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite
            ?? throw new InvalidOperationException("SalesQuery reached its handler unauthorized; TenantAuthorizationBehavior must run first.");

        var zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        StatsRange.TryCreate(query.From, query.To, null, null, zone, time.GetUtcNow(), options.Value, out var range, out var errors);
        var model = AttributionModels.Parse(query.Model, errors);

        if (errors.Count > 0)
        {
            return QueryProblem.Invalid(errors);
        }

        return await store.GetAsync(site, range, model, cancellationToken);
    }
}
