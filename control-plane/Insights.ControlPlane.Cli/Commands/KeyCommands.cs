using System.ComponentModel;
using System.Globalization;
using System.Text.RegularExpressions;
using Insights.ControlPlane.Store;
using Microsoft.EntityFrameworkCore;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Insights.ControlPlane.Cli.Commands;

public sealed class ListKeysSettings : CommandSettings
{
    [CommandOption("--site <SITE-ID>")]
    [Description("The site whose keys to list.")]
    public string? Site { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Site) ? ValidationResult.Error("keys list needs --site <SITE-ID>") : ValidationResult.Success();
}

public sealed class ListKeysCommand(AdminStore store, TimeProvider time, IAnsiConsole console) : AsyncCommand<ListKeysSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ListKeysSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        await store.RequireCurrentAsync(cancellationToken);
        await using var db = await store.Databases.CreateDbContextAsync(cancellationToken);
        var site = settings.Site!.Trim();
        if (!await db.Sites.AnyAsync(s => s.Id == site, cancellationToken))
        {
            throw new AdminException($"no site with id '{site}'; list them with insights-admin sites list");
        }

        var now = time.GetUtcNow();
        var table = Output.Table("Id", "Kind", "Hint", "Label", "Created (UTC)", "State");
        foreach (var key in (await db.SiteKeys.AsNoTracking().Where(k => k.SiteId == site).ToListAsync(cancellationToken)).OrderBy(k => k.CreatedAt))
        {
            var state = key.RevokedAt is { } revoked ? $"revoked {Output.Time(revoked)}"
                : !key.WorksAt(now) ? $"expired {Output.Time(key.ExpiresAt)}"
                : key.ExpiresAt is { } expires ? $"works until {Output.Time(expires)}"
                : "works";
            table.Row(key.Id.ToString(), KeyNames.Of(key.Kind), key.Hint, key.Label, Output.Time(key.CreatedAt), state);
        }

        console.Show(table, $"Site {site} has no keys.");
        return ExitCodes.Ok;
    }
}

public sealed class KeySettings : CommandSettings
{
    [CommandArgument(0, "<KEY-ID>")]
    [Description("The key's id (insights-admin keys list --site <SITE-ID>).")]
    public string KeyId { get; init; } = "";
}

public sealed partial class RotateKeySettings : CommandSettings
{
    [CommandArgument(0, "<KEY-ID>")]
    [Description("The key's id (insights-admin keys list --site <SITE-ID>).")]
    public string KeyId { get; init; } = "";

    [CommandOption("--grace <DURATION>")]
    [Description("How long the old key keeps working, so clients can switch: 30m, 12h, 7d (at most 30d). Default: it stops now.")]
    public string? Grace { get; init; }

    public TimeSpan? GraceSpan => Grace is null ? null : ParseDuration(Grace);

    public override ValidationResult Validate() =>
        Grace is null || ParseDuration(Grace) is not null
            ? ValidationResult.Success()
            : ValidationResult.Error("--grace must be a duration such as 30m, 12h or 7d");

    /// <summary>30m, 12h, 7d: the one duration syntax of the CLI's options.</summary>
    internal static TimeSpan? ParseDuration(string value)
    {
        if (Duration().Match(value.Trim()) is not { Success: true } match
            || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return null;
        }

        return match.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            _ => TimeSpan.FromDays(amount),
        };
    }

    [GeneratedRegex(@"^([0-9]{1,6})([smhd])\z", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();
}

public sealed class RotateKeyCommand(AdminStore store, SiteAdmin admin, Actor actor, IAnsiConsole console) : AsyncCommand<RotateKeySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RotateKeySettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var id = Output.Id(settings.KeyId, "<KEY-ID>", "keys list --site <SITE-ID>");
        await store.RequireCurrentAsync(cancellationToken);
        var issued = await Hints.NotFound(() => admin.RotateKeyAsync(id, settings.GraceSpan, actor, cancellationToken), "keys list --site <SITE-ID>");
        console.WriteLine(settings.GraceSpan is { } grace && grace > TimeSpan.Zero
            ? $"The old key keeps working for {settings.Grace}; then it stops everywhere."
            : "The old key stops working everywhere within seconds.");
        console.WriteLine($"New {KeyNames.Of(issued.Record.Kind)} key for site {issued.Record.SiteId}, shown only now ({KeyNames.Use(issued.Record.Kind)}):");
        console.WriteLine(issued.Key);
        console.WriteLine($"Its id: {issued.Record.Id}");
        return ExitCodes.Ok;
    }
}

public sealed class RevokeKeyCommand(AdminStore store, SiteAdmin admin, Actor actor, IAnsiConsole console) : AsyncCommand<KeySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, KeySettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var id = Output.Id(settings.KeyId, "<KEY-ID>", "keys list --site <SITE-ID>");
        await store.RequireCurrentAsync(cancellationToken);
        await Hints.NotFound(() => admin.RevokeKeyAsync(id, actor, cancellationToken), "keys list --site <SITE-ID>");
        console.WriteLine($"Key {id} revoked: every service refuses it within seconds.");
        return ExitCodes.Ok;
    }
}
