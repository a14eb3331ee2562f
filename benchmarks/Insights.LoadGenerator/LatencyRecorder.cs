namespace Insights.LoadGenerator;

/// <summary>Latencies in a log-linear histogram (≈1% resolution from 10 µs to ~10 min): constant memory
/// however long the run, thread-safe, percentiles without sorting samples.</summary>
public sealed class LatencyRecorder
{
    private const int SubBuckets = 64;
    private const int Octaves = 26;
    private readonly long[] counts = new long[SubBuckets * Octaves];
    private long total;

    public long Count => Interlocked.Read(ref total);

    public void Record(TimeSpan latency)
    {
        var units = Math.Max(1, (long)latency.TotalMicroseconds / 10); // unit = 10 µs
        var log2 = 63 - (int)long.LeadingZeroCount(units);
        var octave = Math.Min(Octaves - 1, log2 < 6 ? 0 : log2 - 5); // units >> octave stays below 64
        var sub = (int)Math.Min(SubBuckets - 1, units >> octave);
        Interlocked.Increment(ref counts[(octave * SubBuckets) + sub]);
        Interlocked.Increment(ref total);
    }

    public TimeSpan Percentile(double p)
    {
        var n = Count;
        if (n == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = (long)Math.Ceiling(p / 100 * n);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += Interlocked.Read(ref counts[i]);
            if (seen >= rank)
            {
                var octave = i / SubBuckets;
                var sub = i % SubBuckets;
                return TimeSpan.FromMicroseconds(((sub + 0.5) * (1L << octave)) * 10);
            }
        }

        return TimeSpan.MaxValue;
    }
}
