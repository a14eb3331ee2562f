using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Insights.QueryApi.Tests.Support;

/// <summary>
/// Records one instrument of one host's meters. Hosts in parallel tests create meters with the same name, so this
/// listens only to meters created by the given host's <see cref="IMeterFactory"/>.
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentQueue<(double Value, Dictionary<string, object?> Tags)> measurements = new();

    public MetricRecorder(IMeterFactory owner, string instrumentName)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, owner) && instrument.Name == instrumentName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => Record(value, tags));
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) => Record(value, tags));
        listener.Start();
    }

    public IReadOnlyList<(double Value, Dictionary<string, object?> Tags)> Measurements => [.. measurements];

    public void Dispose() => listener.Dispose();

    private void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        measurements.Enqueue((value, copy));
    }
}
