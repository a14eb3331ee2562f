using System.Text.Json.Nodes;
using Insights.ControlPlane.Model;
using Insights.QueryApi.Apis;
using Insights.QueryApi.Pipeline;
using Mediator;

namespace Insights.QueryApi.Accounts;

public sealed record KeyBody(string? Kind, string? Label);

public sealed record RotateBody(int? GraceMinutes);

public sealed record InviteBody(string? Email, string? Role);

public sealed record TransferBody(string? ToPartner);

public sealed record OwnerInvitationBody(string? Email);

/// <summary>
/// Management of sites, people and clients. Every endpoint turns HTTP into a tenant request and sends it through the
/// mediator pipeline, where the one tenant authorization behaviour checks the caller's role before any handler runs.
/// Bodies are read here but judged by the handler, after the caller was checked (a malformed body with no right is 401/404).
/// </summary>
public static class ManagementApi
{
    public static IEndpointRouteBuilder MapManagementApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var site = app.MapGroup("/v1/sites/{site}").WithTags("Site management");
        site.MapGet("/settings", (string site, HttpContext context, ISender sender) =>
            SendAsync(sender, context, new GetSiteSettings(site, ReadKeys.From(context.Request))));
        site.MapPatch("/settings", async (string site, HttpContext context, ISender sender) =>
        {
            var (patch, problem) = await JsonBodies.ReadAsync<JsonObject>(context.Request, context.RequestAborted);
            return await SendAsync(sender, context, new PatchSiteSettings(site, ReadKeys.From(context.Request), patch, problem));
        }).Accepts<JsonObject>("application/json").WithSummary("Change some of a site's settings (top-level fields replace the stored ones)");
        site.MapGet("/keys", (string site, HttpContext context, ISender sender) =>
            SendAsync(sender, context, new ListSiteKeys(site, ReadKeys.From(context.Request))));
        site.MapPost("/keys", async (string site, HttpContext context, ISender sender) =>
        {
            var (body, problem) = await JsonBodies.ReadAsync<KeyBody>(context.Request, context.RequestAborted);
            return await SendAsync(sender, context, new IssueSiteKey(site, ReadKeys.From(context.Request), body?.Kind, body?.Label, problem), created: true);
        }).Accepts<KeyBody>("application/json").WithSummary("Issue a key (shown once)");
        site.MapPost("/keys/{id}/rotate", async (string site, string id, HttpContext context, ISender sender) =>
        {
            var (body, problem) = context.Request.ContentLength is 0 or null && !context.Request.Headers.ContainsKey("Transfer-Encoding")
                ? (new RotateBody(null), null)
                : await JsonBodies.ReadAsync<RotateBody>(context.Request, context.RequestAborted);
            return await SendAsync(sender, context, new RotateSiteKey(site, ReadKeys.From(context.Request), id, body?.GraceMinutes, problem), created: true);
        }).Accepts<RotateBody>("application/json").WithSummary("Replace a key: the new one is shown once, the old one stops after the grace (default now)");
        site.MapDelete("/keys/{id}", (string site, string id, HttpContext context, ISender sender) =>
            SendAsync(sender, context, new RevokeSiteKey(site, ReadKeys.From(context.Request), id)));
        site.MapPost("/invitations", (string site, HttpContext context, ISender sender) =>
            InviteAsync(new Target(ScopeKind.Site, site), context, sender)).Accepts<InviteBody>("application/json");
        site.MapDelete("/people/{person}", (string site, string person, HttpContext context, ISender sender) =>
            SendAsync(sender, context, new RemoveMember(new Target(ScopeKind.Site, site), ReadKeys.From(context.Request), person)))
            .WithSummary("Remove a person's role at this site (a role at the organisation stays)");

        var organisation = app.MapGroup("/v1/organisations/{organisation}").WithTags("Organisations");
        organisation.MapGet("/audit", (string organisation, long? before, int? limit, HttpContext context, ISender sender) =>
            SendAsync(sender, context, new OrganisationAudit(organisation, ReadKeys.From(context.Request), before,
                Math.Clamp(limit ?? 100, 1, OrganisationAudit.MaxLimit)))).WithSummary("Who changed what (newest first; page with ?before=<id>)");
        organisation.MapPost("/invitations", (string organisation, HttpContext context, ISender sender) =>
            InviteAsync(new Target(ScopeKind.Organisation, organisation), context, sender)).Accepts<InviteBody>("application/json");
        organisation.MapDelete("/invitations/{id}", (string organisation, string id, HttpContext context, ISender sender) =>
            SendAsync(sender, context, new RevokeInvitation(organisation, ReadKeys.From(context.Request), id)))
            .WithSummary("Revoke a pending invitation here or at one of the sites: its link stops working");
        organisation.MapGet("/people", (string organisation, HttpContext context, ISender sender) =>
            SendAsync(sender, context, new ListPeople(organisation, ReadKeys.From(context.Request))))
            .WithSummary("People with a role at the organisation or its sites, and pending invitations");
        organisation.MapDelete("/people/{person}", (string organisation, string person, HttpContext context, ISender sender) =>
            SendAsync(sender, context, new RemoveMember(new Target(ScopeKind.Organisation, organisation), ReadKeys.From(context.Request), person)))
            .WithSummary("Remove a person's role at the organisation (an owner only by an owner; never the last owner: 409 last_owner)");
        organisation.MapPost("/transfer", async (string organisation, HttpContext context, ISender sender) =>
        {
            var (body, problem) = await JsonBodies.ReadAsync<TransferBody>(context.Request, context.RequestAborted);
            return await SendAsync(sender, context, new TransferOrganisation(organisation, ReadKeys.From(context.Request), body?.ToPartner, problem));
        }).Accepts<TransferBody>("application/json")
            .WithSummary("Owner only: toPartner null moves the organisation to direct ownership (the partner loses access); a partner id grants that partner access");

        var partner = app.MapGroup("/v1/partners/{partner}").WithTags("Partners");
        partner.MapPost("/clients", async (string partner, HttpContext context, ISender sender) =>
        {
            var (body, problem) = await JsonBodies.ReadAsync<CreateClientBody>(context.Request, context.RequestAborted);
            return await SendAsync(sender, context, new CreateClient(partner, ReadKeys.From(context.Request), body, problem), created: true);
        }).Accepts<CreateClientBody>("application/json")
            .WithSummary("Create a client: organisation, sites, keys (shown once), default goals and the owner's invitation link — never a password");
        partner.MapGet("/clients", (string partner, HttpContext context, ISender sender) =>
            SendAsync(sender, context, new ListClients(partner, ReadKeys.From(context.Request))));
        partner.MapPut("/clients/{organisation}/staff/{person}", (string partner, string organisation, string person, HttpContext context, ISender sender) =>
            SendAsync(sender, context, new AssignStaff(partner, ReadKeys.From(context.Request), organisation, person, Assign: true)));
        partner.MapDelete("/clients/{organisation}/staff/{person}", (string partner, string organisation, string person, HttpContext context, ISender sender) =>
            SendAsync(sender, context, new AssignStaff(partner, ReadKeys.From(context.Request), organisation, person, Assign: false)));
        partner.MapPost("/clients/{organisation}/owner-invitation", async (string partner, string organisation, HttpContext context, ISender sender) =>
        {
            var (body, problem) = await JsonBodies.ReadAsync<OwnerInvitationBody>(context.Request, context.RequestAborted);
            return await SendAsync(sender, context, new InviteClientOwner(partner, ReadKeys.From(context.Request), organisation, body?.Email, problem), created: true);
        }).Accepts<OwnerInvitationBody>("application/json")
            .WithSummary("A new owner invitation for a client that has no owner yet (409 owner_exists once it has one)");
        partner.MapPost("/invitations", (string partner, HttpContext context, ISender sender) =>
            InviteAsync(new Target(ScopeKind.Partner, partner), context, sender)).Accepts<InviteBody>("application/json");
        return app;
    }

    private static async Task<IResult> InviteAsync(Target target, HttpContext context, ISender sender)
    {
        var (body, problem) = await JsonBodies.ReadAsync<InviteBody>(context.Request, context.RequestAborted);
        return await SendAsync(sender, context, new InvitePerson(target, ReadKeys.From(context.Request), body?.Email, body?.Role, problem), created: true);
    }

    private static async Task<IResult> SendAsync<T>(ISender sender, HttpContext context, IQuery<QueryOutcome<T>> request, bool created = false) where T : class =>
        Answer(await sender.Send(request, context.RequestAborted), context, created);

    private static async Task<IResult> SendAsync<T>(ISender sender, HttpContext context, ICommand<QueryOutcome<T>> request, bool created = false) where T : class =>
        Answer(await sender.Send(request, context.RequestAborted), context, created);

    private static IResult Answer<T>(QueryOutcome<T> outcome, HttpContext context, bool created) where T : class =>
        outcome.Value is Done ? TypedResults.NoContent()
        : created ? outcome.ToHttpResult(context.Response, value => TypedResults.Json(value, statusCode: StatusCodes.Status201Created)).Result
        : outcome.ToHttpResult(context.Response).Result;
}
