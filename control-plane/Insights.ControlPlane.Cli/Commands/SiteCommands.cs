using System.ComponentModel;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Microsoft.EntityFrameworkCore;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Insights.ControlPlane.Cli.Commands;

public sealed class ListSitesSettings : CommandSettings
{
    [CommandOption("--org <ID>")]
    [Description("Only the sites of this organisation.")]
    public string? Organisation { get; init; }
}

public sealed class ListSitesCommand(AdminStore store, TimeProvider time, IAnsiConsole console) : AsyncCommand<ListSitesSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ListSitesSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Guid? organisation = settings.Organisation is null ? null : Output.Id(settings.Organisation, "--org", "orgs list");
        await store.RequireCurrentAsync(cancellationToken);
        await using var db = await store.Databases.CreateDbContextAsync(cancellationToken);
        var organisations = await db.Organisations.AsNoTracking().ToDictionaryAsync(o => o.Id, cancellationToken);
        var partners = await db.Partners.AsNoTracking().ToDictionaryAsync(p => p.Id, p => p.Name, cancellationToken);
        var now = time.GetUtcNow();
        var keys = (await db.SiteKeys.AsNoTracking().Where(k => k.RevokedAt == null).ToListAsync(cancellationToken))
            .Where(k => k.WorksAt(now)).ToLookup(k => k.SiteId, StringComparer.Ordinal);
        var sites = await db.Sites.AsNoTracking().Where(s => organisation == null || s.OrganisationId == organisation).ToListAsync(cancellationToken);

        var table = Output.Table("Site", "Name", "Organisation", "Partner", "Working keys", "Created (UTC)");
        foreach (var site in sites.OrderBy(s => s.Id, StringComparer.Ordinal))
        {
            var owner = organisations.GetValueOrDefault(site.OrganisationId);
            var partner = owner?.PartnerId is { } p ? partners.GetValueOrDefault(p, p.ToString()) : "(directly)";
            var working = string.Join(", ", keys[site.Id].GroupBy(k => k.Kind).OrderBy(g => g.Key).Select(g => $"{KeyNames.Of(g.Key)} {g.Count()}"));
            table.Row(site.Id, site.Name, owner?.Name ?? site.OrganisationId.ToString(), partner, working.Length > 0 ? working : "none",
                Output.Time(site.CreatedAt));
        }

        console.Show(table, "No sites: create one with insights-admin sites create --org <id> --id <site-id> --name <name>");
        return ExitCodes.Ok;
    }
}

public sealed class CreateSiteSettings : CommandSettings
{
    [CommandOption("--org <ID>")]
    [Description("The organisation the site belongs to (insights-admin orgs list).")]
    public string? Organisation { get; init; }

    [CommandOption("--id <SITE-ID>")]
    [Description("The site id events and reports use: lower-case letters, digits and dashes.")]
    public string? Id { get; init; }

    [CommandOption("--name <NAME>")]
    [Description("The site's name.")]
    public string? Name { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Organisation) || string.IsNullOrWhiteSpace(Id) || string.IsNullOrWhiteSpace(Name)
            ? ValidationResult.Error("sites create needs --org <ID>, --id <SITE-ID> and --name <NAME>")
            : ValidationResult.Success();
}

/// <summary>A site with the default goals and one key of each kind, printed once: the store keeps only their hashes.</summary>
public sealed class CreateSiteCommand(AdminStore store, SiteAdmin admin, Actor actor, IAnsiConsole console) : AsyncCommand<CreateSiteSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CreateSiteSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var organisation = Output.Id(settings.Organisation, "--org", "orgs list");
        await store.RequireCurrentAsync(cancellationToken);
        var site = await Hints.NotFound(() => admin.CreateSiteAsync(organisation, settings.Id!.Trim(), settings.Name!, null, actor, cancellationToken), "orgs list");
        var keys = new List<IssuedKey>();
        foreach (var kind in new[] { SiteKeyKind.Write, SiteKeyKind.Server, SiteKeyKind.Read })
        {
            keys.Add(await admin.IssueKeyAsync(site.Id, kind, "created with the site", actor, cancellationToken));
        }

        console.WriteLine($"Site {site.Id} ({site.Name}) created with the default goals (chat started, order placed).");
        console.WriteLine("Its keys, shown only now (the store keeps their hashes): copy them where they go.");
        var table = Output.Table("Kind", "Key", "Id", "Where it goes");
        foreach (var key in keys)
        {
            table.Row(KeyNames.Of(key.Record.Kind), key.Key, key.Record.Id.ToString(), KeyNames.Use(key.Record.Kind));
        }

        console.Write(table);
        return ExitCodes.Ok;
    }
}

internal static class KeyNames
{
    public static string Of(SiteKeyKind kind) => kind switch
    {
        SiteKeyKind.Write => "write",
        SiteKeyKind.Server => "server",
        _ => "read",
    };

    public static string Use(SiteKeyKind kind) => kind switch
    {
        SiteKeyKind.Write => "the tracker snippet on the site (public)",
        SiteKeyKind.Server => "the shop's server and webhooks (secret)",
        _ => "reports and dashboards (secret)",
    };
}
