using System.ComponentModel;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.QueryApi.Pipeline;
using Mediator;
using Microsoft.EntityFrameworkCore;

namespace Insights.QueryApi.Accounts;

public sealed record CreateClientBody(
    [property: Description("The client business's name.")] string? Name,
    [property: Description("The owner's e-mail address: they get an invitation and set their own sign-in.")] string? OwnerEmail,
    [property: Description("The client's sites; each id is derived from its name when omitted.")] IReadOnlyList<NewClientSite>? Sites);

public sealed record CreateClient(string Partner, PresentedKey Key, CreateClientBody? Body, QueryProblem? BodyProblem)
    : TenantRequest<CreateClient>(Key), ICommand<QueryOutcome<ProvisionedClient>>
{
    public override Target Target => new(ScopeKind.Partner, Partner);

    public override Permission Required => Permission.ManageClients;
}

public sealed record ListClients(string Partner, PresentedKey Key) : TenantRequest<ListClients>(Key), IQuery<QueryOutcome<IReadOnlyList<ClientSummary>>>
{
    public override Target Target => new(ScopeKind.Partner, Partner);

    public override Permission Required => Permission.ListClients;
}

public sealed record AssignStaff(string Partner, PresentedKey Key, string Organisation, string Person, bool Assign)
    : TenantRequest<AssignStaff>(Key), ICommand<QueryOutcome<Done>>
{
    public override Target Target => new(ScopeKind.Partner, Partner);

    public override Permission Required => Permission.ManageClients;
}

/// <summary>
/// A new owner invitation for a partner's client that has no owner yet (the first one expired or went to a wrong
/// address). Only while there is no owner: once there is one, the client's people are the owner's business.
/// </summary>
public sealed record InviteClientOwner(string Partner, PresentedKey Key, string Organisation, string? Email, QueryProblem? BodyProblem)
    : TenantRequest<InviteClientOwner>(Key), ICommand<QueryOutcome<InvitationView>>
{
    public override Target Target => new(ScopeKind.Partner, Partner);

    public override Permission Required => Permission.ManageClients;
}

/// <summary>A partner's clients: provisioning, the list, staff, a new owner invitation; each handler runs only after the tenant behaviour granted its request.</summary>
public sealed class PartnerRequestHandlers(IDbContextFactory<ControlPlaneDb> dbs, Provisioning provisioning, Invitations invitations, AccessResolver access)
    : ICommandHandler<CreateClient, QueryOutcome<ProvisionedClient>>,
      IQueryHandler<ListClients, QueryOutcome<IReadOnlyList<ClientSummary>>>,
      ICommandHandler<AssignStaff, QueryOutcome<Done>>,
      ICommandHandler<InviteClientOwner, QueryOutcome<InvitationView>>
{
    public async ValueTask<QueryOutcome<ProvisionedClient>> Handle(CreateClient request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BodyProblem is { } problem)
        {
            return problem;
        }

        var body = request.Body!;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (Emails.Normalize(body.OwnerEmail) is null)
        {
            errors["ownerEmail"] = ["an e-mail address is required"];
        }

        if (string.IsNullOrWhiteSpace(body.Name))
        {
            errors["name"] = ["required"];
        }

        var newSites = body.Sites is { Count: > 0 } given ? given : [new NewClientSite(null, body.Name ?? "")];
        if (newSites.Count > Provisioning.MaxSitesPerClient)
        {
            errors["sites"] = [$"at most {Provisioning.MaxSitesPerClient}"];
        }

        for (var i = 0; i < newSites.Count; i++)
        {
            if (newSites[i].Id is { } id && !System.Text.RegularExpressions.Regex.IsMatch(id, "^[a-z0-9][a-z0-9_-]{0,62}$"))
            {
                errors[$"sites[{i}].id"] = ["1-63 lowercase letters, digits, '-' or '_'"];
            }

            if (string.IsNullOrWhiteSpace(newSites[i].Name))
            {
                errors[$"sites[{i}].name"] = ["required"];
            }
        }

        if (newSites.Select(s => s.Id).OfType<string>().GroupBy(id => id).Any(g => g.Count() > 1))
        {
            errors["sites"] = ["site ids must differ"];
        }

        if (errors.Count > 0)
        {
            return QueryProblem.Invalid(errors);
        }

        return await Refusals.MapAsync(() => provisioning.CreateClientAsync(
            request.Granted.PartnerId!.Value, body.Name!, body.OwnerEmail!, newSites, request.Granted.Actor, cancellationToken));
    }

    public async ValueTask<QueryOutcome<IReadOnlyList<ClientSummary>>> Handle(ListClients request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var visible = await access.ClientsVisibleAsync(request.Granted.Person, request.Granted.PartnerId!.Value, cancellationToken);
        return QueryOutcome<IReadOnlyList<ClientSummary>>.Success(await provisioning.ListClientsAsync(visible, cancellationToken));
    }

    public async ValueTask<QueryOutcome<Done>> Handle(AssignStaff request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Guid.TryParse(request.Organisation, out var organisation))
        {
            return QueryProblem.NotFound("organisation");
        }

        if (!Guid.TryParse(request.Person, out var person))
        {
            return QueryProblem.NotFound("person");
        }

        return await Refusals.MapAsync(async () =>
        {
            await provisioning.AssignStaffAsync(request.Granted.PartnerId!.Value, organisation, person, request.Assign, request.Granted.Actor, cancellationToken);
            return Done.Value;
        });
    }

    public async ValueTask<QueryOutcome<InvitationView>> Handle(InviteClientOwner request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BodyProblem is { } problem)
        {
            return problem;
        }

        if (!Guid.TryParse(request.Organisation, out var organisationId))
        {
            return QueryProblem.NotFound("organisation");
        }

        if (Emails.Normalize(request.Email) is null)
        {
            return QueryProblem.Invalid("email", "an e-mail address is required");
        }

        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var organisation = await db.Organisations.SingleOrDefaultAsync(o => o.Id == organisationId && o.PartnerId == request.Granted.PartnerId, cancellationToken);
        if (organisation is null)
        {
            return QueryProblem.NotFound("organisation");
        }

        var scope = organisationId.ToString("D");
        if (await db.Memberships.AnyAsync(m => m.ScopeKind == ScopeKind.Organisation && m.ScopeId == scope && m.Role == Role.Owner, cancellationToken))
        {
            return QueryProblem.Conflict("owner_exists", "The client has an owner; they invite people themselves.");
        }

        var issued = invitations.Add(db, request.Email!, ScopeKind.Organisation, scope, Role.Owner, organisation.Name, request.Granted.Actor);
        await db.SaveChangesAsync(cancellationToken);
        var i = issued.Invitation;
        return new InvitationView(i.Id, i.Email, OrganisationRequestHandlers.ScopeName(i.ScopeKind), i.ScopeId, RoleNames.Of(i.Role), i.ExpiresAt, issued.Link);
    }
}
