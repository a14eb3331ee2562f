using System.Globalization;
using Spectre.Console;

namespace Insights.ControlPlane.Cli.Commands;

/// <summary>The CLI's tables: one look for every list, plain text cells (input never becomes markup).</summary>
internal static class Output
{
    public static Table Table(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(column).NoWrap());
        }

        return table;
    }

    public static Table Row(this Table table, params string?[] cells)
    {
        table.AddRow([.. cells.Select(c => new Text(c ?? ""))]);
        return table;
    }

    public static string Time(DateTimeOffset? at) =>
        at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "";

    /// <summary>Writes the table, or says plainly that there is nothing, with what to do next.</summary>
    public static void Show(this IAnsiConsole console, Table table, string none)
    {
        if (table.Rows.Count == 0)
        {
            console.WriteLine(none);
            return;
        }

        console.Write(table);
    }

    public static Guid Id(string? value, string option, string listCommand) =>
        Guid.TryParse(value, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new AdminException($"{option} must be an id (a GUID such as 0193f1c2-…); list them with insights-admin {listCommand}");
}
