using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Insights.Contracts;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.ControlPlane.Store;
using Insights.QueryApi.Pipeline;
using Mediator;
using Microsoft.EntityFrameworkCore;

namespace Insights.QueryApi.Accounts;

/// <summary>
/// A management request about one tenant: goes through the same tenant authorization behaviour as the reports, with
/// its own <see cref="Required"/> permission; the handler receives the <see cref="Grant"/>.
/// </summary>
public abstract record TenantRequest<TSelf>(PresentedKey Key) : IGuardedRequest<TSelf> where TSelf : TenantRequest<TSelf>
{
    public abstract Target Target { get; }

    public abstract Permission Required { get; }

    public Grant? Grant { get; private init; }

    /// <summary>The grant, which exists once the behaviour ran; a handler reached without it is a wiring bug.</summary>
    public Grant Granted => Grant ?? throw new InvalidOperationException($"{typeof(TSelf).Name} reached its handler unauthorized; TenantAuthorizationBehavior must run first.");

    public TSelf Authorized(Grant grant) => (TSelf)(this with { Grant = grant });
}

public sealed record KeyView(Guid Id, string Kind, string Hint, string Label, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt);

public sealed record IssuedKeyView([property: Description("The key: shown this once.")] string Key, KeyView Info);

public sealed record AuditView(long Id, DateTimeOffset At, string ActorKind, string ActorId, string Action, string Scope, string ScopeId, JsonElement Detail);

public sealed record InvitationView(Guid Id, string Email, string Scope, string ScopeId, string Role, DateTimeOffset ExpiresAt,
    [property: Description("The invitation link: shown this once (it is also mailed to the invitee).")] string Link);

public sealed record OrganisationView(Guid Id, string Name, Guid? PartnerId);

public sealed record Done
{
    public static Done Value { get; } = new();
}

// ---- site settings and keys (admin and up) ----

public sealed record GetSiteSettings(string Site, PresentedKey Key) : TenantRequest<GetSiteSettings>(Key), IQuery<QueryOutcome<SiteOptions>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

/// <summary>A partial update: the body's top-level settings replace the stored ones; id and key lists cannot be set here.</summary>
public sealed record PatchSiteSettings(string Site, PresentedKey Key, JsonObject? Patch, QueryProblem? BodyProblem)
    : TenantRequest<PatchSiteSettings>(Key), ICommand<QueryOutcome<SiteOptions>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

public sealed record ListSiteKeys(string Site, PresentedKey Key) : TenantRequest<ListSiteKeys>(Key), IQuery<QueryOutcome<IReadOnlyList<KeyView>>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

public sealed record IssueSiteKey(string Site, PresentedKey Key, string? Kind, string? Label, QueryProblem? BodyProblem)
    : TenantRequest<IssueSiteKey>(Key), ICommand<QueryOutcome<IssuedKeyView>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

public sealed record RotateSiteKey(string Site, PresentedKey Key, string KeyId, int? GraceMinutes, QueryProblem? BodyProblem)
    : TenantRequest<RotateSiteKey>(Key), ICommand<QueryOutcome<IssuedKeyView>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

public sealed record RevokeSiteKey(string Site, PresentedKey Key, string KeyId) : TenantRequest<RevokeSiteKey>(Key), ICommand<QueryOutcome<Done>>
{
    public override Target Target => new(ScopeKind.Site, Site);

    public override Permission Required => Permission.ManageSite;
}

// ---- people, audit, transfer ----

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

// ---- partners ----

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

/// <summary>The handlers: each runs only after the behaviour granted its request, and maps the store's refusals once (<see cref="Refusals"/>).</summary>
public sealed class TenantRequestHandlers(
    IDbContextFactory<ControlPlaneDb> dbs, SiteAdmin sites, Provisioning provisioning, Invitations invitations, AccessResolver access)
    : IQueryHandler<GetSiteSettings, QueryOutcome<SiteOptions>>,
      ICommandHandler<PatchSiteSettings, QueryOutcome<SiteOptions>>,
      IQueryHandler<ListSiteKeys, QueryOutcome<IReadOnlyList<KeyView>>>,
      ICommandHandler<IssueSiteKey, QueryOutcome<IssuedKeyView>>,
      ICommandHandler<RotateSiteKey, QueryOutcome<IssuedKeyView>>,
      ICommandHandler<RevokeSiteKey, QueryOutcome<Done>>,
      ICommandHandler<InvitePerson, QueryOutcome<InvitationView>>,
      IQueryHandler<OrganisationAudit, QueryOutcome<IReadOnlyList<AuditView>>>,
      ICommandHandler<TransferOrganisation, QueryOutcome<OrganisationView>>,
      ICommandHandler<CreateClient, QueryOutcome<ProvisionedClient>>,
      IQueryHandler<ListClients, QueryOutcome<IReadOnlyList<ClientSummary>>>,
      ICommandHandler<AssignStaff, QueryOutcome<Done>>,
      ICommandHandler<InviteClientOwner, QueryOutcome<InvitationView>>
{
    // Settings that are not settings: the id is the URL's, keys are managed through /keys.
    private static readonly string[] NotPatchable = ["id", "writeKeys", "serverKeys", "readKeys"];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async ValueTask<QueryOutcome<SiteOptions>> Handle(GetSiteSettings request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await sites.GetSettingsAsync(request.Site, cancellationToken) is { } settings ? settings : QueryProblem.SiteNotFound();
    }

    public async ValueTask<QueryOutcome<SiteOptions>> Handle(PatchSiteSettings request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BodyProblem is { } problem)
        {
            return problem;
        }

        if (NotPatchable.FirstOrDefault(name => request.Patch!.ContainsKey(name)) is { } forbidden)
        {
            return QueryProblem.Invalid(forbidden, "cannot be changed here (keys: /v1/sites/{site}/keys)");
        }

        return await Refusals.MapAsync<SiteOptions>(async () =>
        {
            var current = await sites.GetSettingsAsync(request.Site, cancellationToken) ?? throw new ControlPlaneException(ControlPlaneException.NotFound, "no such site");
            var merged = JsonSerializer.SerializeToNode(current, Json)!.AsObject();
            foreach (var (name, value) in request.Patch!)
            {
                merged[name] = value?.DeepClone();
            }

            SiteOptions updated;
            try
            {
                updated = merged.Deserialize<SiteOptions>(Json) ?? throw new JsonException("null");
            }
            catch (JsonException e)
            {
                throw new ControlPlaneException(ControlPlaneException.Invalid, $"settings: {e.Path ?? "$"} has the wrong type");
            }

            await sites.UpdateSettingsAsync(request.Site, updated, request.Granted.Actor, cancellationToken);
            return (await sites.GetSettingsAsync(request.Site, cancellationToken))!;
        });
    }

    public async ValueTask<QueryOutcome<IReadOnlyList<KeyView>>> Handle(ListSiteKeys request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var keys = await db.SiteKeys.AsNoTracking().Where(k => k.SiteId == request.Site).ToListAsync(cancellationToken);
        return QueryOutcome<IReadOnlyList<KeyView>>.Success([.. keys.OrderBy(k => k.CreatedAt).Select(View)]);
    }

    public async ValueTask<QueryOutcome<IssuedKeyView>> Handle(IssueSiteKey request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BodyProblem is { } problem)
        {
            return problem;
        }

        if (KindOf(request.Kind) is not { } kind)
        {
            return QueryProblem.Invalid("kind", "one of write, server, read");
        }

        return await Refusals.MapAsync(async () =>
        {
            var issued = await sites.IssueKeyAsync(request.Site, kind, request.Label ?? "", request.Granted.Actor, cancellationToken);
            return new IssuedKeyView(issued.Key, View(issued.Record));
        });
    }

    public async ValueTask<QueryOutcome<IssuedKeyView>> Handle(RotateSiteKey request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BodyProblem is { } problem)
        {
            return problem;
        }

        if (await KeyOfSiteAsync(request.Site, request.KeyId, cancellationToken) is not { } keyId)
        {
            return QueryProblem.NotFound("key");
        }

        return await Refusals.MapAsync(async () =>
        {
            var grace = request.GraceMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : (TimeSpan?)null;
            var issued = await sites.RotateKeyAsync(keyId, grace, request.Granted.Actor, cancellationToken);
            return new IssuedKeyView(issued.Key, View(issued.Record));
        });
    }

    public async ValueTask<QueryOutcome<Done>> Handle(RevokeSiteKey request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await KeyOfSiteAsync(request.Site, request.KeyId, cancellationToken) is not { } keyId)
        {
            return QueryProblem.NotFound("key");
        }

        return await Refusals.MapAsync(async () =>
        {
            await sites.RevokeKeyAsync(keyId, request.Granted.Actor, cancellationToken);
            return Done.Value;
        });
    }

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
        return new InvitationView(i.Id, i.Email, ScopeName(i.ScopeKind), i.ScopeId, RoleNames.Of(i.Role), i.ExpiresAt, issued.Link);
    }

    /// <summary>The key's id when it is a key of this site; another site's key is "no such key", like a made-up id.</summary>
    private async Task<Guid?> KeyOfSiteAsync(string site, string keyId, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(keyId, out var id))
        {
            return null;
        }

        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        return await db.SiteKeys.AnyAsync(k => k.Id == id && k.SiteId == site, cancellationToken) ? id : null;
    }

    private static SiteKeyKind? KindOf(string? kind) => kind switch
    {
        "write" => SiteKeyKind.Write,
        "server" => SiteKeyKind.Server,
        "read" => SiteKeyKind.Read,
        _ => null,
    };

    private static KeyView View(SiteKey k) =>
        new(k.Id, k.Kind.ToString().ToLowerInvariant(), k.Hint, k.Label, k.CreatedAt, k.ExpiresAt, k.RevokedAt);

    private static string ScopeName(ScopeKind kind) => kind.ToString().ToLowerInvariant();
}

/// <summary>The control plane's refusals as query problems: the one mapping (404, 409, 400 with the store's reason).</summary>
internal static class Refusals
{
    public static async Task<QueryOutcome<T>> MapAsync<T>(Func<Task<T>> operation) where T : class
    {
        try
        {
            return await operation();
        }
        catch (ControlPlaneException e)
        {
            return e.Reason switch
            {
                ControlPlaneException.NotFound => new QueryProblem(StatusCodes.Status404NotFound, "not_found", "Not found", e.Message),
                ControlPlaneException.Conflict => QueryProblem.Conflict("conflict", e.Message),
                _ => QueryProblem.Invalid(e.Message.Split(':')[0], e.Message),
            };
        }
        catch (PeopleOperationException e)
        {
            return new QueryProblem(e.Status, e.Reason, e.Status == StatusCodes.Status404NotFound ? "Not found" : "Conflict", e.Message);
        }
    }
}
