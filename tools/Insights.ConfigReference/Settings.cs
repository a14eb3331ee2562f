using System.Collections.Immutable;
using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Insights.ConfigReference;

/// <summary>One configuration key as the reference lists it.</summary>
internal sealed record Setting(string Key, string Type, string Default, string Rules, string Description);

/// <summary>
/// The keys of an options class, as the configuration binder sees them: public settable properties, nested objects
/// as <c>Parent:Child</c>, list items as <c>List:n</c>, dictionary entries as <c>Map:&lt;key&gt;</c>. Defaults come from
/// a fresh instance, rules from the DataAnnotations the start-up validation runs, descriptions from the XML docs.
/// </summary>
internal static class Settings
{
    private static readonly NullabilityInfoContext Nullability = new();

    public static IReadOnlyList<Setting> Of(BoundSection section)
    {
        var settings = new List<Setting>();
        if (section.ElementType is { } element)
        {
            Walk(element, section.Path + ":n", Activator.CreateInstance(element), settings);
        }
        else
        {
            Walk(section.OptionsType, section.Path, Activator.CreateInstance(section.OptionsType), settings);
        }

        return settings;
    }

    /// <summary>The types whose properties appear in the reference under <paramref name="section"/>, nested ones too.</summary>
    public static IEnumerable<Type> TypesOf(BoundSection section)
    {
        var seen = new HashSet<Type>();
        Collect(section.SettingsType, seen);
        return seen;

        static void Collect(Type type, HashSet<Type> seen)
        {
            if (!seen.Add(type))
            {
                return;
            }

            // The base classes too: their properties are the section's keys (ConsumerGroupOptions.GroupId).
            for (var b = type.BaseType; b is not null && b != typeof(object); b = b.BaseType)
            {
                seen.Add(b);
            }

            foreach (var property in Bindable(type))
            {
                if (Complex(property.PropertyType) is { } nested)
                {
                    Collect(nested, seen);
                }
            }
        }
    }

    private static void Walk(Type type, string prefix, object? instance, List<Setting> settings, ImmutableHashSet<Type>? path = null)
    {
        // A recursive type (an invitation rule's condition groups hold conditions) is described once, at its first level.
        path ??= [];
        if (path.Contains(type))
        {
            return;
        }

        path = path.Add(type);
        foreach (var property in Bindable(type))
        {
            var key = ConfigurationPath.Combine(prefix, property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name);
            var value = instance is null ? null : property.GetValue(instance);
            var description = XmlDocs.Summary(property);
            var t = property.PropertyType;

            if (Dictionary(t) is { } valueType)
            {
                if (IsScalar(valueType))
                {
                    settings.Add(new(key + ":<key>", $"map of string → {Name(valueType)}", Show(value), Rules(property), description));
                }
                else
                {
                    settings.Add(new(key, $"map of string → {Name(valueType)}", Show(value), Rules(property), description));
                    Walk(valueType, key + ":<key>", Activator.CreateInstance(valueType), settings, path);
                }
            }
            else if (Element(t) is { } itemType)
            {
                if (IsScalar(itemType))
                {
                    settings.Add(new(key + ":n", $"list of {Name(itemType)}", Show(value), Rules(property), description));
                }
                else
                {
                    settings.Add(new(key, $"list of {Name(itemType)}", Show(value), Rules(property), Or(description, XmlDocs.Summary(itemType))));
                    Walk(itemType, key + ":n", Activator.CreateInstance(itemType), settings, path);
                }
            }
            else if (IsScalar(t))
            {
                settings.Add(new(key, Name(property), Show(value), Rules(property), description));
            }
            else
            {
                settings.Add(new(key, "object", "", Rules(property), Or(description, XmlDocs.Summary(t))));
                Walk(t, key, value ?? Activator.CreateInstance(t), settings, path);
            }
        }
    }

    /// <summary>What the binder sets: public instance properties with a public setter, base classes' first.</summary>
    private static IEnumerable<PropertyInfo> Bindable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0)
            .OrderBy(p => Depth(p.DeclaringType!))
            .ThenBy(p => p.MetadataToken);

    private static int Depth(Type type)
    {
        var depth = 0;
        for (var b = type.BaseType; b is not null; b = b.BaseType)
        {
            depth++;
        }

        return depth;
    }

    private static string Or(string first, string second) => first.Length > 0 ? first : second;

    private static Type? Complex(Type type) =>
        Dictionary(type) is { } v ? (IsScalar(v) ? null : v)
        : Element(type) is { } e ? (IsScalar(e) ? null : e)
        : IsScalar(type) ? null : type;

    private static Type? Dictionary(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) ? type.GetGenericArguments()[1] : null;

    private static Type? Element(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(List<>) || d == typeof(IList<>) || d == typeof(IReadOnlyList<>) || d == typeof(IEnumerable<>))
            ? type.GetGenericArguments()[0]
            : null;

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Uri) || type == typeof(Guid);
    }

    private static string Name(PropertyInfo property)
    {
        var name = Name(property.PropertyType);
        return !property.PropertyType.IsValueType && Nullability.Create(property).WriteState == NullabilityState.Nullable ? name + "?" : name;
    }

    private static string Name(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner)
        {
            return Name(inner) + "?";
        }

        if (type.IsEnum)
        {
            return string.Join(" \\| ", Enum.GetNames(type));
        }

        return type == typeof(int) ? "int"
            : type == typeof(long) ? "long"
            : type == typeof(double) ? "double"
            : type == typeof(decimal) ? "decimal"
            : type == typeof(bool) ? "bool"
            : type == typeof(string) ? "string"
            : type == typeof(TimeSpan) ? "TimeSpan (d.hh:mm:ss)"
            : type.Name;
    }

    private static string Show(object? value) => value switch
    {
        null => "(unset)",
        "" => "`\"\"`",
        // A default under the home directory reads the same on every machine.
        string s => "`" + Home(s).Replace("|", "\\|", StringComparison.Ordinal) + "`",
        bool b => b ? "`true`" : "`false`",
        TimeSpan t => "`" + t.ToString("c", CultureInfo.InvariantCulture) + "`",
        IDictionary d => d.Count == 0 ? "(empty)" : string.Join(", ", d.Keys.Cast<object>().Select(k => $"`{k}`: {Show(d[k])}")),
        IEnumerable e => e.Cast<object>().ToList() is { Count: > 0 } items ? string.Join(", ", items.Select(Show)) : "(empty)",
        Enum x => "`" + x + "`",
        IFormattable f => "`" + f.ToString(null, CultureInfo.InvariantCulture) + "`",
        _ => "`" + value + "`",
    };

    // Defaults under the user's cache or home directory (the IP data) are shown as the rule that computes them, so
    // the page is the same on every machine.
    private static string Home(string path)
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(home, ".cache");
        return path.StartsWith(cache + "/", StringComparison.Ordinal) ? "${XDG_CACHE_HOME:-~/.cache}" + path[cache.Length..]
            : home.Length > 1 && path.StartsWith(home + "/", StringComparison.Ordinal) ? "~" + path[home.Length..]
            : path;
    }

    private static string Rules(PropertyInfo property)
    {
        var rules = new List<string>();
        foreach (var attribute in property.GetCustomAttributes<ValidationAttribute>(inherit: true))
        {
            rules.Add(attribute switch
            {
                RequiredAttribute => "required",
                RangeAttribute r => $"{Bound(r.Minimum)} – {Bound(r.Maximum)}",
                RegularExpressionAttribute r => $"matches `{r.Pattern.Replace("|", "\\|", StringComparison.Ordinal)}`",
                MinLengthAttribute m => $"at least {m.Length} characters",
                MaxLengthAttribute m => $"at most {m.Length} characters",
                StringLengthAttribute s => $"{s.MinimumLength} – {s.MaximumLength} characters",
                _ => attribute.GetType().Name.Replace("Attribute", "", StringComparison.Ordinal),
            });
        }

        return string.Join("; ", rules);
    }

    // Ranges on long and TimeSpan properties are given as strings ("65536"); numbers read better grouped.
    private static string Bound(object value) => value switch
    {
        double or float => ((IFormattable)value).ToString("#,0.###", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString("#,0", CultureInfo.InvariantCulture),
        string s when long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n.ToString("#,0", CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
