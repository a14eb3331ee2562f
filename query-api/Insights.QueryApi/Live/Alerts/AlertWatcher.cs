using System.Collections.Concurrent;
using System.Threading.Channels;
using Insights.Contracts;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live.Alerts;

/// <summary>
/// Evaluates the sites' alert rules on presence (a <see cref="IPresenceWatcher"/>): on every live change and every
/// second, each enabled rule of the visitor's site is checked; a rule that holds for the first time in this visit
/// publishes an <c>alert</c> on this instance's stream and queues the alert for the store's claim
/// (<see cref="AlertClaimer"/>), which lets exactly one instance deliver it.
/// </summary>
/// <remarks>
/// Called under the site's lock, so the per-visitor memory below is only touched by one thread at a time per site;
/// the work here is a catalog lookup and a few comparisons, and the queue write never waits (a full queue drops and
/// counts). The memory lives while the visitor is present: a visitor who leaves and comes back in the same visit may
/// see the alert again on the stream, but the claim keeps it from being delivered twice.
/// </remarks>
public sealed class AlertWatcher(SiteCatalog catalog, AlertQueue queue, AlertMetrics metrics, IOptions<AlertOptions> options) : IPresenceWatcher
{
    private readonly ConcurrentDictionary<(string Site, string Visitor), FiredInVisit> fired = new();
    private readonly bool enabled = options.Value.Enabled;

    public void Changed(SitePresence site, PresentVisitor visitor, LiveEvent e, DateTimeOffset now) => Evaluate(site, visitor, now);

    public void Tick(SitePresence site, PresentVisitor visitor, DateTimeOffset now) => Evaluate(site, visitor, now);

    public void Left(SitePresence site, PresentVisitor visitor)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(visitor);
        fired.TryRemove((site.Site, visitor.Id), out _);
    }

    private void Evaluate(SitePresence site, PresentVisitor visitor, DateTimeOffset now)
    {
        if (!enabled || visitor.SessionId is not { } session || catalog.FindById(site.Site) is not { Alerts.Count: > 0 } settings)
        {
            return;
        }

        FiredInVisit? memory = null;
        foreach (var rule in settings.Alerts)
        {
            if (!rule.Enabled || Reason(rule, settings, visitor) is not { } reason)
            {
                continue;
            }

            memory ??= fired.GetOrAdd((site.Site, visitor.Id), static _ => new FiredInVisit());
            if (memory.Session != session)
            {
                (memory.Session, memory.Rules) = (session, []);
            }

            if (!memory.Rules.Add(rule.Id))
            {
                continue;
            }

            var payload = new AlertPayload(AlertPayload.IdOf(site.Site, rule.Id, session), AlertPayload.EventName, site.Site, now,
                new AlertRuleRef(rule.Id, rule.Name, rule.Kind), reason, visitor.View(now));
            site.Publish(AlertPayload.EventName, payload);
            metrics.Fired(rule.Kind);
            if (!queue.Writer.TryWrite(new PendingAlert(payload, session, [.. rule.Destinations.Select(d => (d.Id, d.Kind))])))
            {
                metrics.Claim("dropped");
            }
        }
    }

    /// <summary>Why the rule holds for the visitor now, or null when it does not.</summary>
    internal static string? Reason(AlertRule rule, SiteOptions site, PresentVisitor visitor)
    {
        switch (rule.Kind)
        {
            case AlertKinds.TargetAccount when visitor.Company is { Domain: { } domain } company && site.IsTargetAccount(domain):
                return $"{company.Name} ({domain}) is on the target-account list";
            case AlertKinds.LeadScore when rule.MinScore is { } min && visitor.Score >= min:
                return $"lead score {visitor.Score} reached {min}";
            case AlertKinds.ReturningHighIntent when visitor.Visits is { } visits && visits >= rule.MinVisits:
                var minScore = rule.MinScore ?? AlertKinds.DefaultHighIntentScore;
                if (visitor.Score >= minScore)
                {
                    return $"visit {visits}, lead score {visitor.Score} reached {minScore}";
                }

                return visitor.Pages.FirstOrDefault(page => rule.IntentPaths.Exists(path => IsUnder(page, path))) is { } intent
                    ? $"visit {visits}, on the high-intent page {intent}"
                    : null;
            default:
                return null;
        }
    }

    private static bool IsUnder(string page, string path) =>
        page.StartsWith(path, StringComparison.OrdinalIgnoreCase)
        && (page.Length == path.Length || path[^1] == '/' || page[path.Length] == '/');

    private sealed class FiredInVisit
    {
        public string? Session { get; set; }

        public HashSet<string> Rules { get; set; } = new(StringComparer.Ordinal);
    }
}

/// <summary>
/// Fired alerts waiting for the store's claim (bounded, written without waiting under the site's lock), and the nudge
/// that wakes the delivery worker when this instance claimed one, so the first attempt does not wait for the next poll.
/// </summary>
public sealed class AlertQueue(IOptions<AlertOptions> options)
{
    private readonly Channel<PendingAlert> channel = Channel.CreateBounded<PendingAlert>(
        new BoundedChannelOptions(options.Value.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public ChannelWriter<PendingAlert> Writer => channel.Writer;

    public ChannelReader<PendingAlert> Reader => channel.Reader;

    public void Wake() => wake.Writer.TryWrite(true);

    /// <summary>Returns after <paramref name="interval"/> or at the next <see cref="Wake"/>, whichever is first.</summary>
    public async Task WaitAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(interval);
        try
        {
            await wake.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The interval passed without a nudge: poll.
        }
    }
}
