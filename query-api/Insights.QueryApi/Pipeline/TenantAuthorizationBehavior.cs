using Insights.Contracts;
using Mediator;

namespace Insights.QueryApi.Pipeline;

/// <summary>
/// The one place that decides whether a key may ask a site query (a report, or a request about a person's data):
/// <list type="bullet">
/// <item>a read or server key in the URL → 401 <c>secret_key_in_url</c>, whatever the headers carry: the key has
/// leaked into proxy and access logs, and its owner must rotate it, which a success would hide;</item>
/// <item>no key, or a key of no site → 401;</item>
/// <item>a key of another kind than the query needs (<see cref="ISiteQuery{TSelf}.RequiredKey"/>; of any site) → 403:
/// the key itself can never ask this, which says nothing about other sites — a write or server key cannot read reports,
/// a read or write key cannot export or erase a person;</item>
/// <item>a right kind of key of another site, or a site id that does not exist → 404, the same answer for both, so a key
/// cannot be used to find out which site ids exist.</item>
/// </list>
/// </summary>
public sealed class TenantAuthorizationBehavior<TMessage, TResponse>(SiteCatalog sites, ILogger<TenantAuthorizationBehavior<TMessage, TResponse>> logger)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : ISiteQuery<TMessage>, IMessage
    where TResponse : IQueryOutcome<TResponse>
{
    public ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(next);

        var problem = Check(message, out var site);
        if (problem is not null)
        {
            if (logger.IsEnabled(LogLevel.Debug))
            {
                logger.AccessDenied(QueryNames.Of<TMessage>(), LogSafe(message.Site), problem.Status, problem.Reason);
            }

            return ValueTask.FromResult(TResponse.Refused(problem));
        }

        return next(message.Authorized(site!), cancellationToken);
    }

    private QueryProblem? Check(TMessage message, out SiteOptions? site)
    {
        site = null;
        if (sites.FindByKey(message.Key.InUrl) is { Kind: KeyKind.Read or KeyKind.Server })
        {
            return QueryProblem.SecretKeyInUrl();
        }

        if (string.IsNullOrEmpty(message.Key.Value))
        {
            return QueryProblem.MissingKey();
        }

        if (sites.FindByKey(message.Key.Value) is not { } grant)
        {
            return QueryProblem.UnknownKey();
        }

        if (grant.Kind != TMessage.RequiredKey)
        {
            return TMessage.RequiredKey == KeyKind.Server ? QueryProblem.ServerKeyRequired(grant.Kind) : QueryProblem.KeyCannotRead(grant.Kind);
        }

        if (!string.Equals(grant.Site.Id, message.Site, StringComparison.Ordinal))
        {
            return QueryProblem.SiteNotFound();
        }

        site = grant.Site;
        return null;
    }

    // The site id comes from the URL: cap it and drop control characters so it cannot forge log lines.
    private static string LogSafe(string value) =>
        new([.. value.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);
}
