namespace Insights.Processors.Consuming;

/// <summary>Capped exponential back-off (<c>Kafka:BackoffInitialMs</c>, 2×, 4× … up to <c>Kafka:BackoffMaxMs</c>),
/// the one policy for every outage a consumer group waits out.</summary>
internal sealed class Backoff(KafkaOptions options)
{
    public int Attempts { get; private set; }

    public TimeSpan Next()
    {
        var ms = Math.Min((double)options.BackoffMaxMs, options.BackoffInitialMs * Math.Pow(2, Math.Min(Attempts, 30)));
        Attempts++;
        return TimeSpan.FromMilliseconds(ms);
    }
}
