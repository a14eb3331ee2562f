using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.QueryApi.Pipeline;
using Mediator;

namespace Insights.QueryApi.Accounts;

/// <summary>The organisation's people: memberships at it and its sites, and pending invitations. Admin and up (it shows addresses).</summary>
public sealed record ListPeople(string Organisation, PresentedKey Key)
    : TenantRequest<ListPeople>(Key), IQuery<QueryOutcome<OrganisationPeople>>
{
    public override Target Target => new(ScopeKind.Organisation, Organisation);

    public override Permission Required => Permission.ManagePeople;
}

/// <summary>Removes a person's role at an organisation or a site. Admin and up; removing an owner needs an owner (checked by <see cref="Members"/>).</summary>
public sealed record RemoveMember(Target Scope, PresentedKey Key, string Person)
    : TenantRequest<RemoveMember>(Key), ICommand<QueryOutcome<Done>>
{
    public override Target Target => Scope;

    public override Permission Required => Permission.ManagePeople;
}

/// <summary>Revokes a pending invitation at the organisation or one of its sites. Admin and up; an owner invitation needs an owner once there is one.</summary>
public sealed record RevokeInvitation(string Organisation, PresentedKey Key, string Invitation)
    : TenantRequest<RevokeInvitation>(Key), ICommand<QueryOutcome<Done>>
{
    public override Target Target => new(ScopeKind.Organisation, Organisation);

    public override Permission Required => Permission.ManagePeople;
}

/// <summary>People of an organisation; each handler runs only after the tenant behaviour granted its request.</summary>
public sealed class PeopleRequestHandlers(Members members)
    : IQueryHandler<ListPeople, QueryOutcome<OrganisationPeople>>,
      ICommandHandler<RemoveMember, QueryOutcome<Done>>,
      ICommandHandler<RevokeInvitation, QueryOutcome<Done>>
{
    public async ValueTask<QueryOutcome<OrganisationPeople>> Handle(ListPeople request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return QueryOutcome<OrganisationPeople>.Success(await members.ListAsync(request.Granted.OrganisationId!.Value, cancellationToken));
    }

    public async ValueTask<QueryOutcome<Done>> Handle(RemoveMember request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Guid.TryParseExact(request.Person, "D", out var person))
        {
            return QueryProblem.NotFound("person");
        }

        var grant = request.Granted;
        var site = request.Scope.Kind == ScopeKind.Site ? request.Scope.Id : null;
        return await Refusals.MapAsync(async () =>
        {
            await members.RemoveAsync(grant.OrganisationId!.Value, site, person, grant.Person, grant.Actor, cancellationToken);
            return Done.Value;
        });
    }

    public async ValueTask<QueryOutcome<Done>> Handle(RevokeInvitation request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Guid.TryParseExact(request.Invitation, "D", out var invitation))
        {
            return QueryProblem.NotFound("invitation");
        }

        var grant = request.Granted;
        return await Refusals.MapAsync(async () =>
        {
            await members.RevokeInvitationAsync(grant.OrganisationId!.Value, invitation, grant.Person, grant.Actor, cancellationToken);
            return Done.Value;
        });
    }
}
