using System.ComponentModel;
using System.Text.Json;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.QueryApi.Pipeline;
using Mediator;
using Microsoft.EntityFrameworkCore;

namespace Insights.QueryApi.Accounts;

public sealed record AuditView(long Id, DateTimeOffset At, string ActorKind, string ActorId, string Action, string Scope, string ScopeId, JsonElement Detail);

public sealed record InvitationView(Guid Id, string Email, string Scope, string ScopeId, string Role, DateTimeOffset ExpiresAt,
    [property: Description("The invitation link: shown this once (it is also mailed to the invitee).")] string Link);

public sealed record OrganisationView(Guid Id, string Name, Guid? PartnerId);

/// <summary>An invitation at a site, an organisation or a partner. Inviting an owner needs the owner; partner roles need a partner admin.</summary>
public sealed record InvitePerson(Target Scope, PresentedKey Key, string? Email, string? Role, QueryProblem? BodyProblem)
    : TenantRequest<InvitePerson>(Key), ICommand<QueryOutcome<InvitationView>>
{
    public override Target Target => Scope;

    public override Permission Required => Scope.Kind == ScopeKind.Partner ? Permission.ManageClients
        : Role == "owner" ? Permission.Transfer : Permission.ManagePeople;
}

public sealed record OrganisationAudit(string Organisation, PresentedKey Key, long? Before, int Limit)
    : TenantRequest<OrganisationAudit>(Key), IQuery<QueryOutcome<IReadOnlyList<AuditView>>>
{
    public const int MaxLimit = 500;

    public override Target Target => new(ScopeKind.Organisation, Organisation);

    public override Permission Required => Permission.ManagePeople;
}

public sealed record TransferOrganisation(string Organisation, PresentedKey Key, string? ToPartner, QueryProblem? BodyProblem)
    : TenantRequest<TransferOrganisation>(Key), ICommand<QueryOutcome<OrganisationView>>
{
    public override Target Target => new(ScopeKind.Organisation, Organisation);

    public override Permission Required => Permission.Transfer;
}

/// <summary>Invitations, the audit log and transfer; each handler runs only after the tenant behaviour granted its request.</summary>
public sealed class OrganisationRequestHandlers(IDbContextFactory<ControlPlaneDb> dbs, Provisioning provisioning, Invitations invitations)
    : ICommandHandler<InvitePerson, QueryOutcome<InvitationView>>,
      IQueryHandler<OrganisationAudit, QueryOutcome<IReadOnlyList<AuditView>>>,
      ICommandHandler<TransferOrganisation, QueryOutcome<OrganisationView>>
{
    public async ValueTask<QueryOutcome<InvitationView>> Handle(InvitePerson request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BodyProblem is { } problem)
        {
            return problem;
        }

        if (Emails.Normalize(request.Email) is null)
        {
            return QueryProblem.Invalid("email", "an e-mail address is required");
        }

        var role = RoleNames.Parse(request.Role);
        var allowed = request.Scope.Kind switch
        {
            ScopeKind.Partner => role is Role.PartnerAdmin or Role.PartnerStaff,
            ScopeKind.Organisation => role is Role.Owner or Role.Admin or Role.Agent or Role.Viewer,
            _ => role is Role.Admin or Role.Agent or Role.Viewer,
        };
        if (!allowed)
        {
            return QueryProblem.Invalid("role", request.Scope.Kind switch
            {
                ScopeKind.Partner => "partner_admin or partner_staff",
                ScopeKind.Organisation => "owner, admin, agent or viewer",
                _ => "admin, agent or viewer",
            });
        }

        var grant = request.Granted;
        var scopeId = request.Scope.Kind switch
        {
            ScopeKind.Partner => grant.PartnerId!.Value.ToString("D"),
            ScopeKind.Organisation => grant.OrganisationId!.Value.ToString("D"),
            _ => request.Scope.Id,
        };
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var scopeName = request.Scope.Kind switch
        {
            ScopeKind.Partner => await db.Partners.Where(p => p.Id == grant.PartnerId).Select(p => p.Name).SingleAsync(cancellationToken),
            ScopeKind.Organisation => await db.Organisations.Where(o => o.Id == grant.OrganisationId).Select(o => o.Name).SingleAsync(cancellationToken),
            _ => await db.Sites.Where(s => s.Id == request.Scope.Id).Select(s => s.Name).SingleAsync(cancellationToken),
        };
        var issued = invitations.Add(db, request.Email!, request.Scope.Kind, scopeId, role!.Value, scopeName, grant.Actor);
        await db.SaveChangesAsync(cancellationToken);
        var i = issued.Invitation;
        return new InvitationView(i.Id, i.Email, ScopeName(i.ScopeKind), i.ScopeId, RoleNames.Of(i.Role), i.ExpiresAt, issued.Link);
    }

    public async ValueTask<QueryOutcome<IReadOnlyList<AuditView>>> Handle(OrganisationAudit request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var organisationId = request.Granted.OrganisationId!.Value;
        var scope = organisationId.ToString("D");
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var siteIds = await db.Sites.Where(s => s.OrganisationId == organisationId).Select(s => s.Id).ToListAsync(cancellationToken);
        var before = request.Before ?? long.MaxValue;
        var rows = await db.AuditLog.AsNoTracking()
            .Where(a => a.Id < before && ((a.ScopeKind == ScopeKind.Organisation && a.ScopeId == scope) || (a.ScopeKind == ScopeKind.Site && siteIds.Contains(a.ScopeId))))
            .OrderByDescending(a => a.Id).Take(request.Limit).ToListAsync(cancellationToken);
        return QueryOutcome<IReadOnlyList<AuditView>>.Success([.. rows.Select(a => new AuditView(
            a.Id, a.At, a.ActorKind, a.ActorId, a.Action, ScopeName(a.ScopeKind), a.ScopeId, JsonSerializer.Deserialize<JsonElement>(a.DetailJson)))]);
    }

    public async ValueTask<QueryOutcome<OrganisationView>> Handle(TransferOrganisation request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BodyProblem is { } problem)
        {
            return problem;
        }

        Guid? to = null;
        if (request.ToPartner is { } text)
        {
            if (!Guid.TryParse(text, out var partner))
            {
                return QueryProblem.Invalid("toPartner", "a partner id, or null for direct ownership");
            }

            to = partner;
        }

        return await Refusals.MapAsync(async () =>
        {
            var organisation = await provisioning.TransferAsync(request.Granted.OrganisationId!.Value, to, request.Granted.Actor, cancellationToken);
            return new OrganisationView(organisation.Id, organisation.Name, organisation.PartnerId);
        });
    }


    internal static string ScopeName(ScopeKind kind) => kind.ToString().ToLowerInvariant();
}
