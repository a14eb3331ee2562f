using System.Text.Json;
using Insights.Contracts;
using Insights.ControlPlane.Model;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live.Alerts;

/// <summary>
/// Takes fired alerts off the queue and claims each in the store (<see cref="AlertOutbox.TryClaimAsync"/>): only the
/// instance whose insert wins has deliveries to make. The payload is bounded here, once, before it is stored.
/// </summary>
public sealed class AlertClaimer(AlertQueue queue, AlertOutbox outbox, AlertMetrics metrics, IOptions<AlertOptions> options, ILogger<AlertClaimer> logger)
    : BackgroundService
{
    private const int Attempts = 5;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var alert in queue.Reader.ReadAllAsync(stoppingToken))
        {
            await ClaimAsync(alert, stoppingToken);
        }
    }

    private async Task ClaimAsync(PendingAlert alert, CancellationToken stoppingToken)
    {
        if (Bounded(alert.Payload, options.Value.MaxPayloadBytes) is not { } json)
        {
            metrics.Claim("dropped");
            return;
        }

        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                var claimed = await outbox.TryClaimAsync(alert, json, stoppingToken);
                metrics.Claim(claimed ? "claimed" : "taken");
                if (claimed)
                {
                    queue.Wake();
                }

                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The store is down or busy: the alert waits here (the queue behind it fills, then drops and counts).
                logger.AlertClaimFailed(e, alert.Payload.Id, attempt);
                await Task.Delay(TimeSpan.FromSeconds(attempt), stoppingToken);
            }
        }

        metrics.Claim("dropped");
    }

    /// <summary>The payload as JSON within <paramref name="max"/> bytes: whole, else without the page list, else with the visitor's essentials only.</summary>
    internal static string? Bounded(AlertPayload payload, int max)
    {
        var visitor = payload.Visitor;
        foreach (var shape in (ReadOnlySpan<LiveVisitor>)[visitor, visitor with { Pages = [] },
            visitor with { Pages = [], Page = null, Referrer = null, Campaign = null, UserId = null }])
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(payload with { Visitor = shape }, SitePresence.Json);
            if (json.Length <= max)
            {
                return System.Text.Encoding.UTF8.GetString(json);
            }
        }

        return null;
    }
}

/// <summary>
/// Delivers the outbox: every <see cref="AlertOptions.PollInterval"/> (or at once when this instance claimed an alert)
/// it reads due deliveries, leases each (safe with several instances: a lease is a conditional update), and attempts it
/// within the global and per-site limits. Failures wait <see cref="Backoff"/>; after <see cref="AlertOptions.MaxAttempts"/>
/// attempts, or when the rule or destination is gone, the delivery is dead until retried through the API.
/// </summary>
public sealed class AlertDeliveryWorker(AlertOutbox outbox, AlertQueue queue, AlertSender sender, SiteCatalog catalog, AlertMetrics metrics,
    IOptions<AlertOptions> options, TimeProvider time, ILogger<AlertDeliveryWorker> logger) : BackgroundService
{
    // A lease outlives the attempt's timeout by this much, so a slow store write after the answer does not lose it.
    private static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(30);

    private readonly AlertOptions settings = options.Value;
    private readonly SemaphoreSlim slots = new(options.Value.MaxConcurrentDeliveries);
    private readonly Dictionary<string, SemaphoreSlim> perSite = new(StringComparer.Ordinal);
    private readonly List<Task> running = [];

    /// <summary>The wait before the attempt after <paramref name="attempts"/> failed ones: doubling from <see cref="AlertOptions.RetryDelay"/>,
    /// capped at <see cref="AlertOptions.MaxRetryDelay"/>, and drawn between half and all of that (jitter: receivers that
    /// failed together are not retried together).</summary>
    public static TimeSpan Backoff(AlertOptions settings, int attempts, double random)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var full = Math.Min(settings.MaxRetryDelay.TotalMilliseconds, settings.RetryDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempts - 1)));
        return TimeSpan.FromMilliseconds(full * (0.5 + (random / 2)));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RoundAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // The store is down: deliveries wait in it; the next round tries again.
                    logger.AlertRoundFailed(e);
                }

                await queue.WaitAsync(settings.PollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: attempts in flight end with the token; their leases expire and another round takes them.
        }
        finally
        {
            Task[] inFlight;
            lock (running)
            {
                inFlight = [.. running];
            }

            await Task.WhenAll(inFlight).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RoundAsync(CancellationToken stoppingToken)
    {
        lock (running)
        {
            running.RemoveAll(t => t.IsCompleted);
        }

        if (slots.CurrentCount == 0)
        {
            return;
        }

        foreach (var due in await outbox.DueAsync(settings.MaxConcurrentDeliveries * 2, stoppingToken))
        {
            var site = SiteSlots(due.Delivery.SiteId);
            if (!site.Wait(0))
            {
                continue;
            }

            if (!slots.Wait(0))
            {
                site.Release();
                break;
            }

            var leased = false;
            try
            {
                leased = await outbox.TryLeaseAsync(due.Delivery, time.GetUtcNow() + settings.Timeout + LeaseMargin, stoppingToken);
            }
            finally
            {
                if (!leased)
                {
                    site.Release();
                    slots.Release();
                }
            }

            if (leased)
            {
                var task = AttemptAsync(due, site, stoppingToken);
                lock (running)
                {
                    running.Add(task);
                }
            }
        }
    }

    private async Task AttemptAsync(DueDelivery due, SemaphoreSlim site, CancellationToken stoppingToken)
    {
        await Task.Yield();
        var delivery = due.Delivery;
        try
        {
            var destination = catalog.FindById(delivery.SiteId)?.Alerts.Find(r => r.Id == delivery.RuleId)?.Destinations.Find(d => d.Id == delivery.DestinationId);
            if (destination is null || destination.Kind != delivery.DestinationKind)
            {
                await outbox.RecordAsync(delivery, AlertDeliveryStatus.Dead, time.GetUtcNow(), null,
                    "destination_removed: the rule or destination no longer exists in the site's alert rules", stoppingToken);
                metrics.Delivery("dead", delivery.DestinationKind);
                return;
            }

            var result = await sender.SendAsync(delivery, destination, due.PayloadJson, stoppingToken);
            var now = time.GetUtcNow();
            if (result.Delivered)
            {
                await outbox.RecordAsync(delivery, AlertDeliveryStatus.Delivered, now, result.StatusCode, null, stoppingToken);
                metrics.Delivery("delivered", delivery.DestinationKind);
                return;
            }

            var dead = delivery.Attempts >= settings.MaxAttempts;
            await outbox.RecordAsync(delivery, dead ? AlertDeliveryStatus.Dead : AlertDeliveryStatus.Pending,
                dead ? now : now + Backoff(settings, delivery.Attempts, Random.Shared.NextDouble()), result.StatusCode, result.Error, stoppingToken);
            metrics.Delivery(dead ? "dead" : "failed", delivery.DestinationKind);
            logger.AlertDeliveryFailed(delivery.Id, delivery.SiteId, delivery.Attempts, dead, result.Error ?? "");
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // The store failed to record the outcome: the lease expires and the delivery is attempted again (at least once).
            logger.AlertRoundFailed(e);
        }
        finally
        {
            site.Release();
            slots.Release();
        }
    }

    private SemaphoreSlim SiteSlots(string site)
    {
        lock (perSite)
        {
            if (!perSite.TryGetValue(site, out var slots))
            {
                perSite[site] = slots = new SemaphoreSlim(settings.PerSiteConcurrency);
            }

            return slots;
        }
    }

    public override void Dispose()
    {
        slots.Dispose();
        lock (perSite)
        {
            foreach (var site in perSite.Values)
            {
                site.Dispose();
            }
        }

        base.Dispose();
    }
}
