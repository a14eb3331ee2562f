namespace Insights.Contracts;

/// <summary>
/// Where sites are configured. Sites and keys live in the control plane (<c>AddControlPlane</c> keeps every service's
/// <see cref="SiteCatalog"/> current); this section only seeds it (the demo, tests), and its checks are the control plane's.
/// </summary>
public static class SiteCatalogRegistration
{
    public const string Section = "Sites";
}
