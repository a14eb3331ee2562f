using ClickHouse.Driver;
using Insights.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Processors;

/// <summary>
/// Settles the stats report's quarter hours (<see cref="StatsQuarters"/>): every
/// <see cref="ProcessorOptions.StatsRollupIntervalSeconds"/> it rolls up the quarter hours nothing was written into for
/// <see cref="ProcessorOptions.StatsRollupSettleSeconds"/>, oldest first, as many rounds as are due. Idempotent, so
/// every processor instance may run it; a failed round (ClickHouse away, schema not there yet) is retried on the next tick.
/// </summary>
internal sealed class StatsRollup(ClickHouseClient client, ClickHouseStorageOptions storage, IOptions<ProcessorOptions> options,
    ProcessorMetrics metrics, ILogger<StatsRollup> logger) : BackgroundService
{
    /// <summary>Quarter hours per round: one statement's parameter list stays small, and a backfill yields between rounds.</summary>
    internal const int RoundSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.StatsRollupIntervalSeconds == 0)
        {
            return;
        }

        var settle = TimeSpan.FromSeconds(settings.StatsRollupSettleSeconds);
        var timeout = TimeSpan.FromSeconds(settings.InsertTimeoutSeconds);
        var failing = false;
        // The first round waits one interval too: the consumer loop applies the schema as it starts.
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.StatsRollupIntervalSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    int rolled;
                    do
                    {
                        rolled = await StatsQuarters.RollAsync(client, storage.Database, settle, RoundSize, timeout, stoppingToken);
                        metrics.QuartersRolled(rolled);
                    }
                    while (rolled == RoundSize);

                    failing = false;
                }
                catch (Exception error) when (!stoppingToken.IsCancellationRequested)
                {
                    if (!failing)
                    {
                        LogMessages.RollupFailed(logger, error);
                    }

                    failing = true;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
