namespace Insights.ServiceDefaults;

/// <summary>
/// The naming convention that brings a service's own meters and activity sources to <c>/metrics</c> and OTLP
/// without registering them: every one is named <c>Insights.&lt;Service&gt;</c> and the defaults listen to
/// <c>Insights.*</c>.
/// </summary>
/// <remarks>
/// A meter or source outside the convention (a client library's) is added where the service needs it:
/// <c>builder.Services.ConfigureOpenTelemetryMeterProvider(m =&gt; m.AddMeter(name))</c>, or
/// <c>ConfigureOpenTelemetryTracerProvider(t =&gt; t.AddSource(name))</c>.
/// </remarks>
/// <example>
/// <code>
/// public const string MeterName = InsightsTelemetry.Prefix + "Ingest";   // "Insights.Ingest"
/// var meter = meterFactory.Create(MeterName);
/// </code>
/// </example>
public static class InsightsTelemetry
{
    public const string Prefix = "Insights.";

    internal const string Wildcard = Prefix + "*";

    /// <summary>The meter and activity source name for a service: <c>NameFor("Ingest")</c> is <c>Insights.Ingest</c>.</summary>
    public static string NameFor(string service)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        return Prefix + service;
    }
}
