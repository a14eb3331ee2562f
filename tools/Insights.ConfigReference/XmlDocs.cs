using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Insights.ConfigReference;

/// <summary>
/// The <c>///</c> summaries of types and properties, read from the XML documentation files the build writes next to
/// each assembly (<c>GenerateDocumentationFile</c>), as one line of Markdown.
/// </summary>
internal static partial class XmlDocs
{
    private static readonly Dictionary<Assembly, Dictionary<string, XElement>> Files = [];

    public static string Summary(Type type) => Summary(type.Assembly, "T:" + DocName(type));

    public static string Summary(PropertyInfo property) =>
        Summary(property.DeclaringType!.Assembly, $"P:{DocName(property.DeclaringType)}.{property.Name}");

    private static string DocName(Type type) => type.FullName!.Replace('+', '.');

    private static string Summary(Assembly assembly, string member)
    {
        var members = Load(assembly);
        return members.TryGetValue(member, out var element) && element.Element("summary") is { } summary
            ? Whitespace().Replace(Markdown(summary), " ").Trim()
            : "";
    }

    private static Dictionary<string, XElement> Load(Assembly assembly)
    {
        lock (Files)
        {
            if (!Files.TryGetValue(assembly, out var members))
            {
                var path = Path.ChangeExtension(assembly.Location, ".xml");
                if (!File.Exists(path))
                {
                    throw new InvalidOperationException(
                        $"{path} not found: set <GenerateDocumentationFile>true</GenerateDocumentationFile> in the project of {assembly.GetName().Name}, which holds options classes.");
                }

                members = XDocument.Load(path).Descendants("member")
                    .ToDictionary(m => (string)m.Attribute("name")!, m => m, StringComparer.Ordinal);
                Files[assembly] = members;
            }

            return members;
        }
    }

    private static string Markdown(XElement element)
    {
        var text = new StringBuilder();
        foreach (var node in element.Nodes())
        {
            text.Append(node switch
            {
                XText t => Escape(t.Value),
                XElement { Name.LocalName: "c" or "code" } c => "`" + c.Value + "`",
                XElement { Name.LocalName: "see" or "seealso" } see => Reference(see),
                XElement { Name.LocalName: "paramref" or "typeparamref" } p => "`" + (string?)p.Attribute("name") + "`",
                XElement other => Markdown(other),
                _ => "",
            });
        }

        return text.ToString();
    }

    // cref="P:Insights.Contracts.SiteOptions.CurrencyRates" reads as CurrencyRates; langword="null" as null.
    private static string Reference(XElement see)
    {
        if (!see.IsEmpty)
        {
            return Markdown(see);
        }

        var target = (string?)see.Attribute("cref") ?? (string?)see.Attribute("langword") ?? "";
        target = target[(target.IndexOf(':', StringComparison.Ordinal) + 1)..];
        var paren = target.IndexOf('(', StringComparison.Ordinal);
        if (paren >= 0)
        {
            target = target[..paren];
        }

        var name = target[(target.LastIndexOf('.') + 1)..];
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return "`" + (tick >= 0 ? name[..tick] : name) + "`";
    }

    // Text outside code spans: a table cell must not see a bare '|', nor markup it would render as HTML.
    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
