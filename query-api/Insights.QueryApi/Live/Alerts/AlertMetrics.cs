using System.Diagnostics.Metrics;

namespace Insights.QueryApi.Live.Alerts;

/// <summary>Alerts' instruments (meter <c>Insights.QueryApi</c>, prefix <c>insights.queryapi.alerts</c>).</summary>
public sealed class AlertMetrics
{
    private readonly Counter<long> fired;
    private readonly Counter<long> claims;
    private readonly Counter<long> deliveries;

    public AlertMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(QueryApiMetrics.MeterName);
        fired = meter.CreateCounter<long>("insights.queryapi.alerts.fired", "{alert}",
            "Rules that held for a visit in this instance (every instance counts the same alert), by kind.");
        claims = meter.CreateCounter<long>("insights.queryapi.alerts.claims", "{alert}",
            "Fired alerts offered to the store, by outcome: claimed (this instance delivers), taken (another did), dropped (queue full or store down).");
        deliveries = meter.CreateCounter<long>("insights.queryapi.alerts.deliveries", "{attempt}",
            "Delivery attempts by outcome (delivered, failed, dead) and destination kind (webhook, slack).");
    }

    public void Fired(string kind) => fired.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Claim(string outcome) => claims.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Delivery(string outcome, string destination) =>
        deliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("destination", destination));
}
