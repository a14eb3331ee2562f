using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Insights.ServiceDefaults;

/// <summary>
/// Runs an options object's DataAnnotations and reports each failure under its full configuration key
/// (<c>Ingest:MaxBatchEvents</c>) with the value it got: the operator fixes a key in a file or an
/// environment variable, not a C# property.
/// </summary>
internal sealed class ConfigurationKeyValidator<TOptions> : IValidateOptions<TOptions> where TOptions : class
{
    private readonly string _sectionPath;
    private readonly (PropertyInfo Property, string Key, bool IsSecret)[] _properties;

    public ConfigurationKeyValidator(string sectionPath)
    {
        _sectionPath = sectionPath;
        _properties = typeof(TOptions)
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.IsDefined(typeof(ValidationAttribute), inherit: true))
            .Select(p => (p, KeyOf(p), p.GetCustomAttribute<DataTypeAttribute>()?.DataType == DataType.Password))
            .ToArray();
    }

    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        // Only the default instance is bound to the section; a named instance is someone else's to validate.
        if (name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var results = new List<ValidationResult>();

        foreach (var (property, key, isSecret) in _properties)
        {
            var value = property.GetValue(options);
            // DisplayName is what the attributes' messages print in place of the property name.
            var context = new ValidationContext(options) { MemberName = property.Name, DisplayName = key };
            results.Clear();
            if (!Validator.TryValidateProperty(value, context, results))
            {
                failures.AddRange(results.Select(r => Describe(key, r.ErrorMessage, isSecret ? null : Show(value))));
            }
        }

        // Rules on the whole object (IValidatableObject, class attributes) may assume valid members, which is
        // also the order Validator.TryValidateObject keeps.
        if (failures.Count == 0)
        {
            results.Clear();
            Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: false);
            failures.AddRange(results.Select(r =>
                Describe(r.MemberNames.FirstOrDefault() is { } member ? KeyOf(member) : _sectionPath, r.ErrorMessage, shownValue: null)));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private string KeyOf(PropertyInfo property) =>
        KeyOf(property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name);

    private string KeyOf(string member) => ConfigurationPath.Combine(_sectionPath, member);

    // "The field Ingest:MaxBatchEvents must be between 1 and 5000." becomes
    // "Ingest:MaxBatchEvents must be between 1 and 5000, got 0".
    private static string Describe(string key, string? message, string? shownValue)
    {
        var text = (message ?? "is not valid").TrimEnd('.');
        if (text.StartsWith($"The field {key} ", StringComparison.Ordinal))
        {
            text = text["The field ".Length..];
        }
        else if (text.StartsWith($"The {key} field ", StringComparison.Ordinal))
        {
            text = key + text[$"The {key} field".Length..];
        }
        else if (!text.Contains(key, StringComparison.Ordinal))
        {
            text = $"{key}: {text}";
        }

        return shownValue is null ? text : $"{text}, got {shownValue}";
    }

    // Scalars only: a list or a nested object would print as its type name, which helps nobody.
    private static string? Show(object? value) => value switch
    {
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        Uri uri => uri.OriginalString,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => null,
    };
}
