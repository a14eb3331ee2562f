using Microsoft.Extensions.Logging;

namespace Insights.ControlPlane;

/// <summary>The control plane's logs; event ids 7100-7199 are the store's.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning,
        Message = "Control plane: ApplyMigrations is off and {Count} migration(s) are pending ({Migrations}); waiting for them to be applied")]
    public static partial void WaitingForMigrations(this ILogger logger, int count, string migrations);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "Control plane: seeded {Count} configured site(s) (created, settings re-applied or keys added)")]
    public static partial void SitesSeeded(this ILogger logger, int count);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Information, Message = "Site directory: loaded {Sites} site(s) and {Keys} working key(s) at catalog version {Version}")]
    public static partial void CatalogLoaded(this ILogger logger, int sites, int keys, long version);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Error,
        Message = "Site directory: the settings of site {SiteId} do not parse; it keeps its last good settings (or stays unserved if it has none)")]
    public static partial void SiteSettingsBroken(this ILogger logger, Exception error, string siteId);

    [LoggerMessage(EventId = 7105, Level = LogLevel.Warning, Message = "Site directory: the control-plane store is unreachable; serving the last loaded sites and keys")]
    public static partial void StoreUnreachable(this ILogger logger, Exception error);

    [LoggerMessage(EventId = 7106, Level = LogLevel.Information, Message = "Site directory: the control-plane store is reachable again")]
    public static partial void StoreReachable(this ILogger logger);
}
