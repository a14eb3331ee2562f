using System.Text.Json;
using Insights.ControlPlane.Model;
using Insights.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane.Store;

/// <summary>
/// Keeps the service's <see cref="SiteCatalog"/> equal to the store: loads it before the host serves, then asks the
/// store for the catalog version every <see cref="ControlPlaneOptions.RefreshInterval"/> and reloads every site and
/// working key when it moved or when a key's grace period ended. A revoked key therefore stops working within one
/// interval plus one load. A store outage keeps the last catalog (and reports degraded); a site whose settings stop
/// parsing keeps its last good settings, so one bad row never takes the other sites down.
/// </summary>
public sealed class SiteDirectory(
    IDbContextFactory<ControlPlaneDb> factory,
    SiteCatalog catalog,
    IOptions<ControlPlaneOptions> options,
    TimeProvider time,
    ILogger<SiteDirectory> logger) : BackgroundService, IHealthCheck
{
    // Only the loop touches these after the first load, which completes before the loop starts.
    private readonly Dictionary<string, (string Json, SiteOptions Site)> lastGood = new(StringComparer.Ordinal);
    private long loadedVersion = -1;
    private DateTimeOffset? nextExpiry;
    private volatile Exception? outage;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The first load fails the start-up if the store cannot be read: serving with no sites would refuse every key.
        await LoadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(outage is { } error
            ? HealthCheckResult.Degraded("the control-plane store is unreachable; serving the last loaded sites and keys", error)
            : HealthCheckResult.Healthy($"catalog version {Interlocked.Read(ref loadedVersion)}"));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RefreshAsync(stoppingToken);
                if (outage is not null)
                {
                    outage = null;
                    logger.StoreReachable();
                }
            }
            catch (Exception error) when (!stoppingToken.IsCancellationRequested)
            {
                if (outage is null)
                {
                    logger.StoreUnreachable(error);
                }

                outage = error;
            }
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        long version;
        await using (var db = await factory.CreateDbContextAsync(cancellationToken))
        {
            version = await CatalogVersion.ReadAsync(db, cancellationToken);
        }

        if (version != loadedVersion || nextExpiry <= time.GetUtcNow())
        {
            await LoadAsync(cancellationToken);
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        // The version is read first: a change committed during the load moves it past this one, so the next poll
        // loads again, and nothing is missed.
        var version = await CatalogVersion.ReadAsync(db, cancellationToken);
        var rows = await db.Sites.AsNoTracking().ToListAsync(cancellationToken);
        var keys = await db.SiteKeys.AsNoTracking().Where(k => k.RevokedAt == null).ToListAsync(cancellationToken);
        var now = time.GetUtcNow();

        var sites = new List<SiteOptions>(rows.Count);
        foreach (var row in rows)
        {
            if (Settings(row) is { } site)
            {
                sites.Add(site);
            }
        }

        var served = sites.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var working = keys.Where(k => k.WorksAt(now) && served.Contains(k.SiteId)).Select(k => new SiteKeyHash(k.SiteId, KindOf(k.Kind), k.Hash)).ToList();
        catalog.Replace(sites, working);
        nextExpiry = keys.Where(k => k.ExpiresAt > now).Min(k => k.ExpiresAt);
        Interlocked.Exchange(ref loadedVersion, version);
        logger.CatalogLoaded(sites.Count, working.Count, version);
    }

    private SiteOptions? Settings(Site row)
    {
        if (lastGood.TryGetValue(row.Id, out var last) && last.Json == row.SettingsJson && last.Site.Name == row.Name)
        {
            return last.Site;
        }

        try
        {
            var site = SiteSettings.Deserialize(row.Id, row.Name, row.SettingsJson);
            lastGood[row.Id] = (row.SettingsJson, site);
            return site;
        }
        catch (JsonException error)
        {
            logger.SiteSettingsBroken(error, row.Id);
            return lastGood.TryGetValue(row.Id, out last) ? last.Site : null;
        }
    }

    private static KeyKind KindOf(SiteKeyKind kind) => kind switch
    {
        SiteKeyKind.Write => KeyKind.Write,
        SiteKeyKind.Server => KeyKind.Server,
        SiteKeyKind.Read => KeyKind.Read,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown key kind"),
    };
}
