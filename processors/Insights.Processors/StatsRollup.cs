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
/// every processor instance may run it; it starts once the consumer loop has applied the schema, and a failed round
/// (ClickHouse away) is retried on the next tick.
/// </summary>
internal sealed class StatsRollup(ClickHouseClient client, ClickHouseStorageOptions storage, IOptions<ProcessorOptions> options,
    PipelineHealth health, ProcessorMetrics metrics, ILogger<StatsRollup> logger) : BackgroundService
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
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.StatsRollupIntervalSeconds));
        try
        {
            // The consumer loop applies the schema as it starts (a minute or more when a migration rebuilds a table):
            // rounds before that could only fail on tables not there yet.
            await health.SchemaApplied.WaitAsync(stoppingToken);
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
