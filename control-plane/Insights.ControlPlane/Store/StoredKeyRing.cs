using System.Xml.Linq;
using Insights.ControlPlane.Model;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Insights.ControlPlane.Store;

/// <summary>
/// Data protection's key repository on the control-plane store (<c>data_protection_keys</c>), so all instances of a
/// service share one key ring through the database they already share. Data protection calls it rarely: on start, when
/// it meets a key it does not know, and when it rolls a key (every 90 days by default).
/// </summary>
public sealed class StoredKeyRing(IDbContextFactory<ControlPlaneDb> dbs) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var db = dbs.CreateDbContext();
        return db.DataProtectionKeys.AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).AsEnumerable()
            .Select(xml => XElement.Parse(xml)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        using var db = dbs.CreateDbContext();
        db.DataProtectionKeys.Add(new DataProtectionKeyRow { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        db.SaveChanges();
    }
}

public static class StoredKeyRingExtensions
{
    /// <summary>
    /// Keeps the service's data-protection keys in the control-plane store (see <see cref="StoredKeyRing"/>), under a fixed
    /// application name so instances installed in different directories still share them.
    /// </summary>
    public static IDataProtectionBuilder PersistKeysToControlPlane(this IDataProtectionBuilder builder, string applicationName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.SetApplicationName(applicationName);
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IDbContextFactory<ControlPlaneDb>>((options, dbs) =>
            options.XmlRepository = new StoredKeyRing(dbs));
        return builder;
    }
}
