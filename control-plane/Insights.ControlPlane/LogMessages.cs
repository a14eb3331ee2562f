using Microsoft.Extensions.Logging;

namespace Insights.ControlPlane;

/// <summary>The control plane's logs; event ids 7100-7199 are the store's.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning,
        Message = "Control plane: ApplyMigrations is off and {Count} migration(s) are pending ({Migrations}); waiting for them to be applied")]
    public static partial void WaitingForMigrations(this ILogger logger, int count, string migrations);
}
