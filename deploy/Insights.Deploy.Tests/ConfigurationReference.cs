using System.Text.RegularExpressions;

namespace Insights.Deploy.Tests;

/// <summary>
/// The settings of docs/configuration.md (generated from the options classes, with its own drift test), with the
/// services that read each: what an environment variable in a deployment file must name.
/// </summary>
internal sealed partial class ConfigurationReference
{
    private readonly List<(string[] Segments, HashSet<string> Readers)> settings = [];

    private ConfigurationReference()
    {
        HashSet<string> readers = [];
        foreach (var line in Repository.Read("docs/configuration.md").Split('\n'))
        {
            if (Heading().Match(line) is { Success: true } heading)
            {
                readers = [.. heading.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries)];
            }
            else if (Row().Match(line) is { Success: true } row)
            {
                settings.Add((row.Groups[1].Value.Split(':'), readers));
            }
        }
    }

    public static ConfigurationReference Instance { get; } = new();

    public int Count => settings.Count;

    /// <summary>
    /// Whether <paramref name="variable"/> (<c>Section__Key__0__Name</c>) names a setting <paramref name="service"/>
    /// reads: <c>__</c> is <c>:</c>, an index stands for <c>n</c>, any name for a dictionary's <c>&lt;key&gt;</c>,
    /// compared without case as .NET configuration compares keys.
    /// </summary>
    public bool IsReadBy(string variable, string service) =>
        settings.Any(s => s.Readers.Contains(service) && Matches(s.Segments, variable.Split("__")));

    /// <summary>Whether any service reads it (for the message when <see cref="IsReadBy"/> is false).</summary>
    public IEnumerable<string> ReadersOf(string variable) =>
        settings.Where(s => Matches(s.Segments, variable.Split("__"))).SelectMany(s => s.Readers).Distinct();

    private static bool Matches(string[] setting, string[] variable) =>
        setting.Length == variable.Length && setting.Zip(variable).All(p => p.First switch
        {
            "n" => p.Second.Length > 0 && p.Second.All(char.IsAsciiDigit),
            "&lt;key&gt;" => p.Second.Length > 0,
            _ => string.Equals(p.First, p.Second, StringComparison.OrdinalIgnoreCase),
        });

    [GeneratedRegex(@"^## \S+ \(([a-z, -]+)\)\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\| `([^`]+)` \|")]
    private static partial Regex Row();
}
