using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Insights.Contracts;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Insights.QueryApi.Pipeline;
using Mediator;
using Microsoft.EntityFrameworkCore;

namespace Insights.QueryApi.Accounts;

public sealed record KeyView(Guid Id, string Kind, string Hint, string Label, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt);

public sealed record IssuedKeyView([property: Description("The key: shown this once.")] string Key, KeyView Info);

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

/// <summary>Site settings and keys, through the store's <see cref="SiteAdmin"/>; each handler runs only after the tenant behaviour granted its request.</summary>
public sealed class SiteRequestHandlers(IDbContextFactory<ControlPlaneDb> dbs, SiteAdmin sites)
    : IQueryHandler<GetSiteSettings, QueryOutcome<SiteOptions>>,
      ICommandHandler<PatchSiteSettings, QueryOutcome<SiteOptions>>,
      IQueryHandler<ListSiteKeys, QueryOutcome<IReadOnlyList<KeyView>>>,
      ICommandHandler<IssueSiteKey, QueryOutcome<IssuedKeyView>>,
      ICommandHandler<RotateSiteKey, QueryOutcome<IssuedKeyView>>,
      ICommandHandler<RevokeSiteKey, QueryOutcome<Done>>
{
    // Settings that are not settings: the id is the URL's, keys are managed through /keys, alert rules (with their
    // generated secrets) through /alert-rules.
    private static readonly string[] NotPatchable = ["id", "writeKeys", "serverKeys", "readKeys", "alerts"];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async ValueTask<QueryOutcome<SiteOptions>> Handle(GetSiteSettings request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await sites.GetSettingsAsync(request.Site, cancellationToken) is { } settings ? WithoutAlertSecrets(settings) : QueryProblem.SiteNotFound();
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
            return QueryProblem.Invalid(forbidden, "cannot be changed here (keys: /v1/sites/{site}/keys, alerts: /v1/sites/{site}/alert-rules)");
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
            return WithoutAlertSecrets((await sites.GetSettingsAsync(request.Site, cancellationToken))!);
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

    /// <summary>Alert rules are shown by /alert-rules, which masks their secrets; settings leave them out.</summary>
    private static SiteOptions WithoutAlertSecrets(SiteOptions settings)
    {
        settings.Alerts = [];
        return settings;
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
}
