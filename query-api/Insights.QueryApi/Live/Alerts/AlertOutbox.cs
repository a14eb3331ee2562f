using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Microsoft.EntityFrameworkCore;

namespace Insights.QueryApi.Live.Alerts;

/// <summary>A delivery due now, with the alert's payload it carries.</summary>
public sealed record DueDelivery(AlertDelivery Delivery, string PayloadJson);

/// <summary>
/// The alert tables of the control plane (<c>alerts</c>, <c>alert_deliveries</c>), for every query-API instance that
/// shares the store. Every step that two instances could race on is one conditional statement: the claim is an insert
/// under a unique key, a lease and an outcome are updates guarded by the row's <see cref="AlertDelivery.Version"/>.
/// </summary>
public sealed class AlertOutbox(IDbContextFactory<ControlPlaneDb> dbs, TimeProvider time)
{
    /// <summary>
    /// Stores the alert and one pending delivery per destination, together; true when this call did it (this instance
    /// delivers), false when the alert of this rule and visit exists already (another instance, or an earlier run, has it).
    /// </summary>
    public async Task<bool> TryClaimAsync(PendingAlert alert, string payloadJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var now = time.GetUtcNow();
        var payload = alert.Payload;
        await using (var db = await dbs.CreateDbContextAsync(cancellationToken))
        {
            db.FiredAlerts.Add(new FiredAlert
            {
                Id = payload.Id, SiteId = payload.Site, RuleId = payload.Rule.Id, SessionId = alert.SessionId, VisitorId = payload.Visitor.VisitorId,
                FiredAt = payload.FiredAt, PayloadJson = payloadJson,
            });
            foreach (var (id, kind) in alert.Destinations)
            {
                db.AlertDeliveries.Add(new AlertDelivery
                {
                    Id = Guid.CreateVersion7(now), AlertId = payload.Id, SiteId = payload.Site, RuleId = payload.Rule.Id, DestinationId = id,
                    DestinationKind = kind, Status = AlertDeliveryStatus.Pending, NextAttemptAt = now, CreatedAt = now,
                });
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return true;
            }
            catch (DbUpdateException)
            {
                // Told apart below: a unique-key violation (someone claimed it) is the expected loss; anything else is not.
            }
        }

        await using var check = await dbs.CreateDbContextAsync(cancellationToken);
        return await check.FiredAlerts.AnyAsync(a => a.Id == payload.Id, cancellationToken)
            ? false
            : throw new InvalidOperationException($"The alert {payload.Id} could not be stored and is not in the store.");
    }

    /// <summary>Pending deliveries whose time has come, oldest first.</summary>
    public async Task<List<DueDelivery>> DueAsync(int max, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var rows = await (from d in db.AlertDeliveries.AsNoTracking()
                          join a in db.FiredAlerts on d.AlertId equals a.Id
                          where d.Status == AlertDeliveryStatus.Pending && d.NextAttemptAt <= now
                          orderby d.NextAttemptAt
                          select new { d, a.PayloadJson }).Take(max).ToListAsync(cancellationToken);
        return [.. rows.Select(r => new DueDelivery(r.d, r.PayloadJson))];
    }

    /// <summary>
    /// Takes the delivery for one attempt until <paramref name="until"/> (counted as an attempt now, so a worker that dies
    /// mid-attempt still uses one up); false when another worker moved it first. On success the instance is updated.
    /// </summary>
    public async Task<bool> TryLeaseAsync(AlertDelivery delivery, DateTimeOffset until, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var now = time.GetUtcNow();
        var (version, attempts) = (delivery.Version, delivery.Attempts);
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var moved = await db.AlertDeliveries
            .Where(d => d.Id == delivery.Id && d.Version == version && d.Status == AlertDeliveryStatus.Pending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Version, version + 1)
                .SetProperty(d => d.Attempts, attempts + 1)
                .SetProperty(d => d.NextAttemptAt, until)
                .SetProperty(d => d.LastAttemptAt, now), cancellationToken);
        if (moved != 1)
        {
            return false;
        }

        (delivery.Version, delivery.Attempts, delivery.NextAttemptAt, delivery.LastAttemptAt) = (version + 1, attempts + 1, until, now);
        return true;
    }

    /// <summary>
    /// Records an attempt's outcome on a leased delivery: delivered, pending again at <paramref name="next"/>, or dead.
    /// A lease that expired and was taken over in the meantime records nothing (the newer holder records).
    /// </summary>
    public async Task RecordAsync(AlertDelivery delivery, AlertDeliveryStatus status, DateTimeOffset next, int? statusCode, string? error,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var now = time.GetUtcNow();
        var version = delivery.Version;
        var trimmed = error is { Length: > 500 } ? error[..500] : error;
        DateTimeOffset? delivered = status == AlertDeliveryStatus.Delivered ? now : null;
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        await db.AlertDeliveries
            .Where(d => d.Id == delivery.Id && d.Version == version)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Version, version + 1)
                .SetProperty(d => d.Status, status)
                .SetProperty(d => d.NextAttemptAt, next)
                .SetProperty(d => d.DeliveredAt, delivered)
                .SetProperty(d => d.LastStatusCode, statusCode)
                .SetProperty(d => d.LastError, trimmed), cancellationToken);
    }

    /// <summary>The site's deliveries, newest first, optionally of one status.</summary>
    public async Task<List<AlertDelivery>> ListAsync(string site, AlertDeliveryStatus? status, int limit, CancellationToken cancellationToken)
    {
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var query = db.AlertDeliveries.AsNoTracking().Where(d => d.SiteId == site);
        if (status is { } wanted)
        {
            query = query.Where(d => d.Status == wanted);
        }

        return await query.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id).Take(limit).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Re-queues a dead delivery of the site with fresh attempts, due now. Null: no such delivery at this site (another
    /// site's id is no different). False: it is not dead (pending or delivered), nothing changed.
    /// </summary>
    public async Task<(AlertDelivery? Delivery, bool Requeued)> RequeueAsync(string site, Guid id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var moved = await db.AlertDeliveries
            .Where(d => d.Id == id && d.SiteId == site && d.Status == AlertDeliveryStatus.Dead)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, AlertDeliveryStatus.Pending)
                .SetProperty(d => d.Attempts, 0)
                .SetProperty(d => d.NextAttemptAt, now)
                .SetProperty(d => d.Version, d => d.Version + 1), cancellationToken);
        var row = await db.AlertDeliveries.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id && d.SiteId == site, cancellationToken);
        return (row, moved == 1);
    }
}
