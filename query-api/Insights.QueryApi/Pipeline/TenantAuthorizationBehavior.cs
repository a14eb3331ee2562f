using Insights.Contracts;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Mediator;

namespace Insights.QueryApi.Pipeline;

/// <summary>
/// The one place that decides whether a caller may ask a tenant request: a report, a request about a person's data, or
/// a management request (settings, keys, people, clients, transfer). With a key:
/// <list type="bullet">
/// <item>a read or server key in the URL → 401 <c>secret_key_in_url</c>, whatever the headers carry: the key has
/// leaked into proxy and access logs, and its owner must rotate it, which a success would hide;</item>
/// <item>no key and no signed-in person, or a key of no site → 401;</item>
/// <item>a key of another kind than the query needs (<see cref="ISiteQuery{TSelf}.RequiredKey"/>; of any site) → 403:
/// the key itself can never ask this, which says nothing about other sites — a write or server key cannot read reports,
/// a read or write key cannot export or erase a person; no key manages anything (<c>key_cannot_manage</c>);</item>
/// <item>a visitor's invitation channel (<see cref="Permission.ReceiveInvitations"/>) takes the public write key, from the
/// URL too (a page's script cannot send headers without a CORS preflight), and only it: any other key 403
/// <c>write_key_required</c>, and no person is ever granted it;</item>
/// <item>a right kind of key of another site, or a site id that does not exist → 404, the same answer for both, so a key
/// cannot be used to find out which site ids exist.</item>
/// </list>
/// As a person (session or personal token), by role (<see cref="AccessResolver"/>): a tenant where they have no role
/// and one that does not exist are the same 404; a role too weak for the request is 403 <c>role_insufficient</c>, said
/// only where they already have a role.
/// </summary>
public sealed class TenantAuthorizationBehavior<TMessage, TResponse>(
    SiteCatalog sites, AccessResolver access, ILogger<TenantAuthorizationBehavior<TMessage, TResponse>> logger)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IGuardedRequest<TMessage>, IMessage
    where TResponse : IQueryOutcome<TResponse>
{
    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(next);

        var (problem, grant) = message.Key.Value is null && message.Key.Person is { } person && !SecretKeyInUrl(message.Key)
            ? await CheckPersonAsync(message.Target, message.Required, person, cancellationToken)
            : CheckKey(message.Target, message.Required, message.Key);
        if (problem is not null)
        {
            if (logger.IsEnabled(LogLevel.Debug))
            {
                logger.AccessDenied(QueryNames.Of<TMessage>(), LogSafe(message.Target.Id), problem.Status, problem.Reason);
            }

            return TResponse.Refused(problem);
        }

        return await next(message.Authorized(grant!), cancellationToken);
    }

    private bool SecretKeyInUrl(PresentedKey key) => sites.FindByKey(key.InUrl) is { Kind: KeyKind.Read or KeyKind.Server };

    private (QueryProblem?, Grant?) CheckKey(Target target, Permission required, PresentedKey key)
    {
        if (SecretKeyInUrl(key))
        {
            return (QueryProblem.SecretKeyInUrl(), null);
        }

        var siteData = required is Permission.ReadReports or Permission.SubjectData or Permission.ReceiveInvitations;
        if (string.IsNullOrEmpty(key.Value))
        {
            return (siteData ? QueryProblem.MissingKey() : QueryProblem.SignInRequired(), null);
        }

        if (sites.FindByKey(key.Value) is not { } found)
        {
            return (Secrets.LooksLike(key.Value, Secrets.ApiTokenPrefix) ? QueryProblem.UnknownToken() : QueryProblem.UnknownKey(), null);
        }

        var needed = required switch
        {
            Permission.SubjectData => KeyKind.Server,
            Permission.ReceiveInvitations => KeyKind.Write,
            _ => KeyKind.Read,
        };
        if (!siteData)
        {
            return (QueryProblem.KeyCannotManage(), null);
        }

        if (found.Kind != needed)
        {
            return (needed switch
            {
                KeyKind.Server => QueryProblem.ServerKeyRequired(found.Kind),
                KeyKind.Write => QueryProblem.WriteKeyRequired(found.Kind),
                _ => QueryProblem.KeyCannotRead(found.Kind),
            }, null);
        }

        if (target.Kind != ScopeKind.Site || !string.Equals(found.Site.Id, target.Id, StringComparison.Ordinal))
        {
            return (QueryProblem.SiteNotFound(), null);
        }

        return (null, new Grant(new("key", SiteCatalog.HashKey(key.Value)[..16]), found.Site, null, null, null));
    }

    private async Task<(QueryProblem?, Grant?)> CheckPersonAsync(Target target, Permission required, SignedInPerson person, CancellationToken cancellationToken)
    {
        switch (target.Kind)
        {
            case ScopeKind.Site when required == Permission.ReceiveInvitations:
                // A visitor's channel: a person (session or token) is nobody's visitor here.
                return (QueryProblem.WriteKeyRequired(null), null);

            case ScopeKind.Site:
            {
                var site = sites.FindById(target.Id);
                var tenant = target.Id.Length <= 63 ? await access.ForSiteAsync(person.Id, target.Id, cancellationToken) : null;
                // Reports need the live site (its settings); management works on the stored one even before the catalog caught up.
                if (tenant is not { Level: > AccessLevel.None } || (site is null && required is Permission.ReadReports or Permission.SubjectData))
                {
                    return (QueryProblem.SiteNotFound(), null);
                }

                return tenant.Level < LevelFor(required)
                    ? (QueryProblem.RoleInsufficient(), null)
                    : (null, new Grant(person.Actor, site, tenant.OrganisationId, tenant.PartnerId, person.Id));
            }

            case ScopeKind.Organisation:
            {
                var tenant = Guid.TryParseExact(target.Id, "D", out var id) ? await access.ForOrganisationAsync(person.Id, id, cancellationToken) : null;
                if (tenant is not { Level: > AccessLevel.None })
                {
                    return (QueryProblem.NotFound("organisation"), null);
                }

                return tenant.Level < LevelFor(required)
                    ? (QueryProblem.RoleInsufficient(), null)
                    : (null, new Grant(person.Actor, null, tenant.OrganisationId, tenant.PartnerId, person.Id));
            }

            default:
            {
                var level = Guid.TryParseExact(target.Id, "D", out var id) ? await access.ForPartnerAsync(person.Id, id, cancellationToken) : PartnerAccess.None;
                if (level == PartnerAccess.None)
                {
                    return (QueryProblem.NotFound("partner"), null);
                }

                var needed = required == Permission.ListClients ? PartnerAccess.Staff : PartnerAccess.Admin;
                return level < needed
                    ? (QueryProblem.RoleInsufficient(), null)
                    : (null, new Grant(person.Actor, null, null, id, person.Id));
            }
        }
    }

    private static AccessLevel LevelFor(Permission permission) => permission switch
    {
        Permission.ReadReports => AccessLevel.Viewer,
        Permission.InviteVisitors => AccessLevel.Agent,
        Permission.Transfer => AccessLevel.Owner,
        _ => AccessLevel.Admin,
    };

    // The site id comes from the URL: cap it and drop control characters so it cannot forge log lines.
    private static string LogSafe(string value) =>
        new([.. value.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);
}
