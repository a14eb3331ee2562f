using System.ComponentModel;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Insights.ControlPlane.Cli.Commands;

public sealed class InitSettings : CommandSettings
{
    [CommandOption("--partner <NAME>")]
    [Description("The partner (agency) to create.")]
    public string? Partner { get; init; }

    [CommandOption("--email <ADDRESS>")]
    [Description("The e-mail address of the partner's first admin; they receive an invitation link, never a password.")]
    public string? Email { get; init; }

    [CommandOption("--base-url <URL>")]
    [Description("Where people reach Insights, for the link. Default: the setting People:PublicBaseUrl, as the services use it.")]
    public string? BaseUrl { get; init; }

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Partner) || string.IsNullOrWhiteSpace(Email))
        {
            return ValidationResult.Error("init needs --partner <NAME> and --email <ADDRESS>");
        }

        return BaseUrl is null || Uri.TryCreate(BaseUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.Query.Length == 0 && url.Fragment.Length == 0
            ? ValidationResult.Success()
            : ValidationResult.Error("--base-url must be an http(s) address without query, such as https://insights.agency.example");
    }
}

/// <summary>
/// A fresh install's first step: the schema (as the services apply it), the first partner, and an invitation link for
/// its admin, who chooses their own sign-in when accepting. No password is ever created or printed.
/// </summary>
public sealed class InitCommand(AdminStore store, IPasswordHasher<Person> hasher, IOptions<PeopleOptions> people, TimeProvider time, Actor actor,
    IAnsiConsole console) : AsyncCommand<InitSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, InitSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        await store.MigrateAsync(cancellationToken);
        // The command line's base URL wins over the setting, for this invitation's link.
        var options = people.Value;
        options.PublicBaseUrl = settings.BaseUrl ?? options.PublicBaseUrl;
        var invitations = new Invitations(store.Databases, hasher, Options.Create(options), time);
        var (partner, issued) = await store.CreatePartnerAsync(settings.Partner!, settings.Email!, invitations, actor, cancellationToken);
        var invitation = issued.Invitation;

        var table = new Table().Border(TableBorder.None).HideHeaders().AddColumn("").AddColumn("");
        table.AddRow("Store", Markup.Escape(await store.DescribeAsync(cancellationToken)) + " (schema current)");
        table.AddRow("Partner", Markup.Escape($"{partner.Name} ({partner.Id})"));
        table.AddRow("Invited", Markup.Escape($"{invitation.Email} as partner admin, until {invitation.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC"));
        console.Write(table);
        console.WriteLine();
        console.MarkupLine("Send this link to the invitee; it is shown only now and works once:");
        console.WriteLine(issued.Link);
        return ExitCodes.Ok;
    }
}
