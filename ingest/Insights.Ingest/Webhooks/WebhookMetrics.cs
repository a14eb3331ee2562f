using System.Diagnostics.Metrics;

namespace Insights.Ingest.Webhooks;

/// <summary>
/// Webhook deliveries by platform and outcome, on the ingest meter. A burst of <c>invalid_signature</c> is a
/// misconfigured secret (or someone probing); <c>unmapped_topic</c> is a subscription we do not need.
/// </summary>
public sealed class WebhookMetrics
{
    private readonly Counter<long> received;

    public WebhookMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        // The factory hands out one meter per name: these instruments sit beside IngestMetrics' own.
        var meter = meterFactory.Create(IngestMetrics.MeterName);
        received = meter.CreateCounter<long>("insights.ingest.webhooks.received", "{request}",
            "Webhook deliveries, by platform (livechat, shopify, woocommerce) and outcome (accepted, or the refusal or ignore reason).");
    }

    public void Received(string platform, string outcome) =>
        received.Add(1, new KeyValuePair<string, object?>("platform", platform), new KeyValuePair<string, object?>("outcome", outcome));
}
