using System.ComponentModel;
using System.Globalization;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Microsoft.EntityFrameworkCore;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Insights.ControlPlane.Cli.Commands;

public sealed class ListPartnersCommand(AdminStore store, IAnsiConsole console) : AsyncCommand
{
    public override async Task<int> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        await store.RequireCurrentAsync(cancellationToken);
        await using var db = await store.Databases.CreateDbContextAsync(cancellationToken);
        var clients = await db.Organisations.Where(o => o.PartnerId != null).GroupBy(o => o.PartnerId)
            .Select(g => new { Partner = g.Key!.Value, Count = g.Count() }).ToDictionaryAsync(g => g.Partner, g => g.Count, cancellationToken);
        var table = Output.Table("Partner", "Id", "Clients", "Created (UTC)");
        foreach (var partner in (await db.Partners.AsNoTracking().ToListAsync(cancellationToken)).OrderBy(p => p.Name, StringComparer.CurrentCultureIgnoreCase))
        {
            table.Row(partner.Name, partner.Id.ToString(), clients.GetValueOrDefault(partner.Id).ToString(CultureInfo.InvariantCulture), Output.Time(partner.CreatedAt));
        }

        console.Show(table, "No partners yet: create the first with insights-admin init --partner <name> --email <address>");
        return ExitCodes.Ok;
    }
}

public sealed class ListOrganisationsSettings : CommandSettings
{
    [CommandOption("--partner <ID>")]
    [Description("Only the clients of this partner.")]
    public string? Partner { get; init; }
}

public sealed class ListOrganisationsCommand(AdminStore store, IAnsiConsole console) : AsyncCommand<ListOrganisationsSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ListOrganisationsSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Guid? partner = settings.Partner is null ? null : Output.Id(settings.Partner, "--partner", "partners list");
        await store.RequireCurrentAsync(cancellationToken);
        await using var db = await store.Databases.CreateDbContextAsync(cancellationToken);
        var partners = await db.Partners.AsNoTracking().ToDictionaryAsync(p => p.Id, p => p.Name, cancellationToken);
        var sites = await db.Sites.GroupBy(s => s.OrganisationId).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var organisations = await db.Organisations.AsNoTracking().Where(o => partner == null || o.PartnerId == partner).ToListAsync(cancellationToken);
        var table = Output.Table("Organisation", "Id", "Managed by", "Sites", "Created (UTC)");
        foreach (var organisation in organisations.OrderBy(o => o.Name, StringComparer.CurrentCultureIgnoreCase))
        {
            var managedBy = organisation.PartnerId is { } p ? partners.GetValueOrDefault(p, p.ToString()) : "(directly)";
            table.Row(organisation.Name, organisation.Id.ToString(), managedBy, sites.GetValueOrDefault(organisation.Id).ToString(CultureInfo.InvariantCulture),
                Output.Time(organisation.CreatedAt));
        }

        console.Show(table, "No organisations: create one with insights-admin orgs create --name <name> [--partner <id>]");
        return ExitCodes.Ok;
    }
}

public sealed class CreateOrganisationSettings : CommandSettings
{
    [CommandOption("--name <NAME>")]
    [Description("The client's name.")]
    public string? Name { get; init; }

    [CommandOption("--partner <ID>")]
    [Description("The partner that manages it; leave out for an organisation that manages itself.")]
    public string? Partner { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Name) ? ValidationResult.Error("orgs create needs --name <NAME>") : ValidationResult.Success();
}

public sealed class CreateOrganisationCommand(AdminStore store, SiteAdmin admin, Actor actor, IAnsiConsole console) : AsyncCommand<CreateOrganisationSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CreateOrganisationSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Guid? partner = settings.Partner is null ? null : Output.Id(settings.Partner, "--partner", "partners list");
        await store.RequireCurrentAsync(cancellationToken);
        var organisation = await Hints.NotFound(() => admin.CreateOrganisationAsync(settings.Name!, partner, actor, cancellationToken), "partners list");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Organisation {organisation.Name} created: {organisation.Id}"));
        console.WriteLine($"Add a site with: insights-admin sites create --org {organisation.Id} --id <site-id> --name <name>");
        return ExitCodes.Ok;
    }
}

/// <summary>The store's "not found" with the command that lists what exists.</summary>
internal static class Hints
{
    public static async Task<T> NotFound<T>(Func<Task<T>> operation, string listCommand)
    {
        try
        {
            return await operation();
        }
        catch (ControlPlaneException error) when (error.Reason == ControlPlaneException.NotFound)
        {
            throw new AdminException($"{error.Message}; list them with insights-admin {listCommand}");
        }
    }

    public static Task NotFound(Func<Task> operation, string listCommand) => NotFound(async () =>
    {
        await operation();
        return true;
    }, listCommand);
}
