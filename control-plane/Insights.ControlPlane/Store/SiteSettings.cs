using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Insights.Contracts;

namespace Insights.ControlPlane.Store;

/// <summary>
/// A site's settings as the store keeps them (<see cref="Model.Site.SettingsJson"/>): <see cref="SiteOptions"/> without
/// its id and name (columns of their own) and without keys (hashed rows of their own, never in clear).
/// </summary>
public static class SiteSettings
{
    private static readonly HashSet<string> NotSettings = new(StringComparer.Ordinal)
    {
        nameof(SiteOptions.Id), nameof(SiteOptions.Name),
        nameof(SiteOptions.WriteKeys), nameof(SiteOptions.ServerKeys), nameof(SiteOptions.ReadKeys),
    };

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { DropNonSettings } },
    };

    public static string Serialize(SiteOptions site) => JsonSerializer.Serialize(site, Json);

    /// <summary>The site as the services see it. Throws <see cref="JsonException"/> for a document that is not settings.</summary>
    public static SiteOptions Deserialize(string siteId, string name, string settingsJson)
    {
        var site = JsonSerializer.Deserialize<SiteOptions>(settingsJson, Json) ?? throw new JsonException("the settings are null");
        site.Id = siteId;
        site.Name = name;
        return site;
    }

    private static void DropNonSettings(JsonTypeInfo info)
    {
        if (info.Type != typeof(SiteOptions))
        {
            return;
        }

        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            if (info.Properties[i].AttributeProvider is System.Reflection.PropertyInfo p && NotSettings.Contains(p.Name))
            {
                info.Properties.RemoveAt(i);
            }
        }
    }
}
