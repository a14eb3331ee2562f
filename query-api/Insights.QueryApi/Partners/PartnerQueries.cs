using System.Globalization;
using Insights.ControlPlane.Model;
using Insights.QueryApi.Accounts;
using Insights.QueryApi.Pipeline;
using Insights.QueryApi.Sales;
using Insights.QueryApi.Stats;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Partners;

/// <summary>
/// Companies across the partner's client sites the caller may see; raw parameters. Authorized like every request, by
/// the tenant behaviour (a partner admin or staff person); the handler then covers only the clients the person sees.
/// </summary>
public sealed record PartnerCompaniesQuery(string Partner, PresentedKey Key, string? From, string? To, string? Live, string? Limit, string? Sites)
    : TenantRequest<PartnerCompaniesQuery>(Key), IQuery<QueryOutcome<PartnerCompaniesResponse>>
{
    public override Target Target => new(ScopeKind.Partner, Partner);

    public override Permission Required => Permission.ListClients;
}

/// <summary>Revenue and chat-attributed revenue per client organisation of the partner, per currency.</summary>
public sealed record PartnerRevenueQuery(string Partner, PresentedKey Key, string? From, string? To, string? Model, string? Sites)
    : TenantRequest<PartnerRevenueQuery>(Key), IQuery<QueryOutcome<PartnerRevenueResponse>>
{
    public override Target Target => new(ScopeKind.Partner, Partner);

    public override Permission Required => Permission.ListClients;
}

public sealed class PartnerCompaniesQueryHandler(PartnerRollupStore store, PartnerDirectory directory, IOptions<PartnerRollupOptions> partners,
    IOptions<QueryApiOptions> options, TimeProvider time) : IQueryHandler<PartnerCompaniesQuery, QueryOutcome<PartnerCompaniesResponse>>
{
    public async ValueTask<QueryOutcome<PartnerCompaniesResponse>> Handle(PartnerCompaniesQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var scope = await directory.ScopeAsync(query.Granted, cancellationToken);
        var now = time.GetUtcNow();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var live = PartnerParameters.Flag("live", query.Live, errors);
        var sites = PartnerParameters.Sites(scope, query.Sites, partners.Value.MaxSites, errors, out var notFound);
        if (notFound is not null)
        {
            return notFound;
        }

        DateTimeOffset from, to;
        int limit;
        if (live)
        {
            if (query.From is not null || query.To is not null)
            {
                errors["live"] = ["The live view covers the last minutes: leave out 'from' and 'to', or leave out 'live'."];
            }

            to = now;
            from = now.AddMinutes(-partners.Value.LiveWindowMinutes);
            limit = PartnerParameters.Limit(query.Limit, options.Value, errors);
        }
        else if (StatsRange.TryCreate(query.From, query.To, null, query.Limit, TimeZoneInfo.Utc, now, options.Value, out var range, out var rangeErrors))
        {
            (from, to, limit) = (range.From, range.To, range.Limit);
        }
        else
        {
            foreach (var (name, messages) in rangeErrors)
            {
                errors[name] = messages;
            }

            (from, to, limit) = (now, now, 0);
        }

        if (errors.Count > 0)
        {
            return QueryProblem.Invalid(errors);
        }

        return await store.CompaniesAsync(scope, sites, from, to, live, limit, now, cancellationToken);
    }
}

public sealed class PartnerRevenueQueryHandler(PartnerRollupStore store, PartnerDirectory directory, IOptions<PartnerRollupOptions> partners,
    IOptions<QueryApiOptions> options, TimeProvider time) : IQueryHandler<PartnerRevenueQuery, QueryOutcome<PartnerRevenueResponse>>
{
    public async ValueTask<QueryOutcome<PartnerRevenueResponse>> Handle(PartnerRevenueQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var scope = await directory.ScopeAsync(query.Granted, cancellationToken);
        var siteErrors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var sites = PartnerParameters.Sites(scope, query.Sites, partners.Value.MaxSites, siteErrors, out var notFound);
        if (notFound is not null)
        {
            return notFound;
        }

        StatsRange.TryCreate(query.From, query.To, null, null, TimeZoneInfo.Utc, time.GetUtcNow(), options.Value, out var range, out var errors);
        foreach (var (name, messages) in siteErrors)
        {
            errors[name] = messages;
        }

        var model = string.IsNullOrEmpty(query.Model) ? AttributionModels.LastChat : query.Model;
        if (!AttributionModels.All.Contains(model, StringComparer.Ordinal))
        {
            errors["model"] = [$"'model' must be one of {string.Join(", ", AttributionModels.All)}."];
        }

        if (errors.Count > 0)
        {
            return QueryProblem.Invalid(errors);
        }

        return await store.RevenueAsync(scope, sites, range.From, range.To, model, cancellationToken);
    }
}

/// <summary>Parsing of the roll-ups' own parameters; each error names its parameter and never echoes the input.</summary>
internal static class PartnerParameters
{
    private const int MaxSitesParameterLength = 100_000;

    /// <summary>
    /// The sites a call covers: all of the scope's, or those named in <c>sites</c> (comma-separated). A named site outside
    /// the scope is "not found", whether it is another partner's or does not exist, so site ids do not leak. More than
    /// <paramref name="maxSites"/> is refused: one query covers them all, and its cost grows with them.
    /// </summary>
    public static IReadOnlyList<ClientSite> Sites(PartnerScope scope, string? value, int maxSites, Dictionary<string, string[]> errors,
        out QueryProblem? notFound)
    {
        notFound = null;
        IReadOnlyList<ClientSite> sites = scope.Sites;
        if (!string.IsNullOrWhiteSpace(value))
        {
            if (value.Length > MaxSitesParameterLength || value.Any(char.IsControl))
            {
                errors["sites"] = ["'sites' must be site ids separated by commas."];
                return [];
            }

            var byId = scope.Sites.ToDictionary(s => s.Id, StringComparer.Ordinal);
            var chosen = new List<ClientSite>();
            foreach (var id in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal))
            {
                if (!byId.TryGetValue(id, out var site))
                {
                    notFound = new QueryProblem(StatusCodes.Status404NotFound, "site_not_found", "Site not found",
                        "A site in 'sites' is not a client site of this partner that you may see.");
                    return [];
                }

                chosen.Add(site);
            }

            sites = chosen;
        }

        if (sites.Count > maxSites)
        {
            errors["sites"] = [string.Create(CultureInfo.InvariantCulture,
                $"The call covers {sites.Count} sites; at most {maxSites} per call: choose them with 'sites' (comma-separated ids).")];
        }

        return sites;
    }

    public static bool Flag(string name, string? value, Dictionary<string, string[]> errors)
    {
        switch (value)
        {
            case null or "" or "0" or "false":
                return false;
            case "1" or "true":
                return true;
            default:
                errors[name] = [$"'{name}' must be 1 or 0."];
                return false;
        }
    }

    public static int Limit(string? value, QueryApiOptions options, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return options.DefaultLimit;
        }

        if (value.Length <= 6 && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit >= 1 && limit <= options.MaxLimit)
        {
            return limit;
        }

        errors["limit"] = [$"'limit' must be a whole number from 1 to {options.MaxLimit}."];
        return options.DefaultLimit;
    }
}
