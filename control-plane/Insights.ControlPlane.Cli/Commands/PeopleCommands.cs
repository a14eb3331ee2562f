using System.ComponentModel;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Insights.ControlPlane.Model;
using Microsoft.EntityFrameworkCore;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Insights.ControlPlane.Cli.Commands;

/// <summary>People with their roles (where), and the invitations nobody accepted yet.</summary>
public sealed class ListPeopleCommand(AdminStore store, TimeProvider time, IAnsiConsole console) : AsyncCommand
{
    public override async Task<int> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        await store.RequireCurrentAsync(cancellationToken);
        await using var db = await store.Databases.CreateDbContextAsync(cancellationToken);
        var names = await ScopeNamesAsync(db, cancellationToken);
        var roles = (await db.Memberships.AsNoTracking().ToListAsync(cancellationToken)).ToLookup(m => m.PersonId);
        var now = time.GetUtcNow();

        var people = Output.Table("E-mail", "Name", "Id", "Roles", "Status", "Created (UTC)");
        foreach (var person in (await db.People.AsNoTracking().ToListAsync(cancellationToken)).OrderBy(p => p.NormalizedEmail, StringComparer.Ordinal))
        {
            var where = string.Join("; ", roles[person.Id].Select(m => $"{RoleName(m.Role)} @ {names(m.ScopeKind, m.ScopeId)}"));
            var status = person.LockedUntil > now ? $"locked until {Output.Time(person.LockedUntil)}" : person.PasswordHash is null ? "no password" : "active";
            people.Row(person.Email, person.DisplayName, person.Id.ToString(), where, status, Output.Time(person.CreatedAt));
        }

        console.Show(people, "No people yet: they appear when an invitation is accepted.");

        var pending = (await db.Invitations.AsNoTracking().Where(i => i.AcceptedAt == null).ToListAsync(cancellationToken))
            .Where(i => i.ExpiresAt > now).OrderBy(i => i.CreatedAt).ToList();
        if (pending.Count > 0)
        {
            console.WriteLine();
            console.WriteLine("Invitations not accepted yet:");
            var invitations = Output.Table("E-mail", "Role", "At", "Expires (UTC)");
            foreach (var invitation in pending)
            {
                invitations.Row(invitation.Email, RoleName(invitation.Role), names(invitation.ScopeKind, invitation.ScopeId), Output.Time(invitation.ExpiresAt));
            }

            console.Write(invitations);
        }

        return ExitCodes.Ok;
    }

    internal static string RoleName(Role role) => role switch
    {
        Role.PartnerAdmin => "partner admin",
        Role.PartnerStaff => "partner staff",
        _ => role.ToString().ToLowerInvariant(),
    };

    /// <summary>"partner Agency", "organisation Shop Ltd", "site shop" for a scope.</summary>
    internal static async Task<Func<ScopeKind, string, string>> ScopeNamesAsync(ControlPlaneDb db, CancellationToken cancellationToken)
    {
        var partners = await db.Partners.AsNoTracking().ToDictionaryAsync(p => p.Id.ToString("D"), p => p.Name, cancellationToken);
        var organisations = await db.Organisations.AsNoTracking().ToDictionaryAsync(o => o.Id.ToString("D"), o => o.Name, cancellationToken);
        return (kind, id) => kind switch
        {
            ScopeKind.Partner => $"partner {partners.GetValueOrDefault(id, id)}",
            ScopeKind.Organisation => $"organisation {organisations.GetValueOrDefault(id, id)}",
            _ => $"site {id}",
        };
    }
}

public sealed class AuditTailSettings : CommandSettings
{
    [CommandOption("-n|--count <N>")]
    [Description("How many entries (1-1000). Default: 20.")]
    [DefaultValue(20)]
    public int Count { get; init; } = 20;

    public override ValidationResult Validate() =>
        Count is >= 1 and <= 1000 ? ValidationResult.Success() : ValidationResult.Error("--count must be from 1 to 1000");
}

public sealed class AuditTailCommand(AdminStore store, IAnsiConsole console) : AsyncCommand<AuditTailSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, AuditTailSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        await store.RequireCurrentAsync(cancellationToken);
        await using var db = await store.Databases.CreateDbContextAsync(cancellationToken);
        var names = await ListPeopleCommand.ScopeNamesAsync(db, cancellationToken);
        var entries = await db.AuditLog.AsNoTracking().OrderByDescending(a => a.Id).Take(settings.Count).ToListAsync(cancellationToken);
        var table = Output.Table("At (UTC)", "Actor", "Action", "Scope", "Detail");
        foreach (var entry in entries.OrderBy(a => a.Id))
        {
            table.Row(entry.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), $"{entry.ActorKind} {entry.ActorId}", entry.Action,
                names(entry.ScopeKind, entry.ScopeId), Detail(entry.DetailJson));
        }

        console.Show(table, "The audit log is empty.");
        return ExitCodes.Ok;
    }

    /// <summary>The detail as people read it (… not \u2026), cut so the table stays one line per entry.</summary>
    private static string Detail(string json)
    {
        string text;
        try
        {
            text = JsonNode.Parse(json)?.ToJsonString(Readable) ?? "";
        }
        catch (JsonException)
        {
            text = json;
        }

        return text.Length <= MaxDetail ? text : string.Concat(text.AsSpan(0, MaxDetail - 1), "…");
    }

    private const int MaxDetail = 120;

    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
