using System.Text;

namespace Insights.ConfigReference;

/// <summary>docs/configuration.md: every section the services bind, one table each.</summary>
internal static class ReferencePage
{
    public const string RelativePath = "docs/configuration.md";

    public const string Command = "dotnet run --project tools/Insights.ConfigReference";

    public static string Render() => Render(BoundSections.FindAll());

    public static string Render(IReadOnlyList<BoundSection> sections)
    {
        var page = new StringBuilder();
        page.Append($$$"""
            # Configuration reference

            Every setting of ingest, the processors, the query API and the dashboards web app, generated from the options classes they bind
            (defaults from a fresh instance, rules from their validation attributes, descriptions from their `///`
            comments) by `{{{Command}}}`. Do not edit this page by hand: a test fails when it and the code disagree.

            A key `Section:Key` is set in the service's `appsettings.json` (`{"Section": {"Key": value}}`), on the command
            line (`--Section:Key=value`) or as an environment variable with `__` for each `:`
            (`Ingest__MaxBatchEvents=1000`, `Sites__0__Id=shop`). `n` in a key is a list index from 0; `<key>` is a name of
            your choice (a dictionary entry). A value outside its rules stops the service at start-up with a message that
            names the key. A setting a service does not read is ignored by it, so one file can serve all three.

            | Section | Read by | Options class |
            |---|---|---|

            """);
        foreach (var section in sections)
        {
            page.Append($"| [`{section.Path}`](#{Anchor(section)}) | {string.Join(", ", section.Services)} | `{section.SettingsType.Name}` |\n");
        }

        foreach (var section in sections)
        {
            page.Append($"\n## {Heading(section)}\n\n");
            page.Append($"Read by: {string.Join(", ", section.Services)}. Class: `{section.SettingsType.FullName}`.");
            if (XmlDocs.Summary(section.SettingsType) is { Length: > 0 } summary)
            {
                page.Append(' ').Append(summary);
            }

            page.Append("\n\n| Key | Type | Default | Rules | Description |\n|---|---|---|---|---|\n");
            foreach (var s in Settings.Of(section))
            {
                page.Append($"| `{s.Key.Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)}` | {s.Type} | {s.Default} | {s.Rules} | {s.Description} |\n");
            }
        }

        return page.ToString();
    }

    // Two classes can share a section name (ingest's producer and the processors' consumers both read Kafka):
    // the heading names the services so each gets its own anchor.
    private static string Heading(BoundSection section) => $"{section.Path} ({string.Join(", ", section.Services)})";

    private static string Anchor(BoundSection section) =>
        new string([.. Heading(section).ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '-')]).Replace(' ', '-');
}
