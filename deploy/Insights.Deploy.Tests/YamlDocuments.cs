using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Insights.Deploy.Tests;

/// <summary>
/// YAML files as JSON, typed as a YAML 1.2 reader (docker compose, kubectl) types them: plain scalars that look like
/// numbers, booleans or null become those, quoted ones stay strings; aliases resolve and merge keys (<c>&lt;&lt;</c>)
/// merge, so the JSON is what the tool would see and can be checked against its schema.
/// </summary>
internal static partial class YamlDocuments
{
    public static IReadOnlyList<JsonObject> Load(string relativePath)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(Repository.Read(relativePath)))
        {
            stream.Load(reader);
        }

        return [.. stream.Documents.Select(d => ToJson(d.RootNode)).OfType<JsonObject>()];
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => Mapping(mapping),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidOperationException($"Unexpected YAML node {node.NodeType} at {node.Start}."),
    };

    private static JsonObject Mapping(YamlMappingNode mapping)
    {
        var result = new JsonObject();
        var merged = new List<JsonObject>();
        foreach (var (key, value) in mapping.Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            if (name == "<<")
            {
                // A merge key: one mapping or a list of them, whose keys apply where the mapping itself has none.
                merged.AddRange(value is YamlSequenceNode list ? list.Children.Select(c => Mapping((YamlMappingNode)c)) : [Mapping((YamlMappingNode)value)]);
                continue;
            }

            Assert.False(result.ContainsKey(name), $"duplicate key '{name}' at {key.Start}");
            result[name] = ToJson(value);
        }

        foreach (var source in merged)
        {
            foreach (var (name, value) in source)
            {
                if (!result.ContainsKey(name))
                {
                    result[name] = value?.DeepClone();
                }
            }
        }

        return result;
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is not YamlDotNet.Core.ScalarStyle.Plain)
        {
            return JsonValue.Create(text);
        }

        if (text is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        if (text is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return JsonValue.Create(text.Equals("true", StringComparison.OrdinalIgnoreCase));
        }

        if (Integer().IsMatch(text))
        {
            return JsonValue.Create(long.Parse(text, CultureInfo.InvariantCulture));
        }

        return Float().IsMatch(text) ? JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture)) : JsonValue.Create(text);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
