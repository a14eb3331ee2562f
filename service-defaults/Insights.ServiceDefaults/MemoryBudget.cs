using System.Diagnostics.Metrics;

namespace Insights.ServiceDefaults;

/// <summary>
/// The bytes a cache of per-visitor state may hold, and how many it holds, metered: a gauge
/// <c>{prefix}.memory</c> (bytes held) and a counter <c>{prefix}.evicted</c> (entries dropped, by reason).
/// The owner estimates each entry (<see cref="StringBytes"/> plus its fixed overhead), adds and releases it, and
/// evicts while <see cref="IsOver"/>: counting entries is no bound when one stranger's ids can be 250 characters.
/// </summary>
/// <remarks>Written by one consumer thread; read by the metrics exporter, hence the interlocked total.</remarks>
public sealed class MemoryBudget
{
    // The header of a string object (type, length) and its terminator, rounded: .NET strings are UTF-16.
    private const int StringOverhead = 24;

    private readonly Counter<long>? evicted;
    private long held;
    private long evictions;

    public MemoryBudget(long capBytes, IMeterFactory? meterFactory = null, string? meterName = null, string? instrumentPrefix = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capBytes, 1);
        CapBytes = capBytes;
        if (meterFactory is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(meterName);
            ArgumentException.ThrowIfNullOrWhiteSpace(instrumentPrefix);
            var meter = meterFactory.Create(meterName);
            meter.CreateObservableGauge(instrumentPrefix + ".memory", () => Volatile.Read(ref held), "By",
                "Estimated bytes held in memory (strings and fixed overhead per entry); kept under the configured cap.");
            evicted = meter.CreateCounter<long>(instrumentPrefix + ".evicted", "{entry}",
                "Entries dropped from memory, by reason (idle, memory); they are read back from storage when needed again.");
        }
    }

    public long CapBytes { get; }

    /// <summary>Where an eviction stops: a tenth under the cap, so the next batches do not evict again at once.</summary>
    public long TargetBytes => CapBytes / 10 * 9;

    public long HeldBytes => Volatile.Read(ref held);

    public bool IsOver => HeldBytes > CapBytes;

    /// <summary>Entries evicted since start.</summary>
    public long Evictions => Volatile.Read(ref evictions);

    public void Add(long bytes) => Interlocked.Add(ref held, bytes);

    public void Release(long bytes) => Interlocked.Add(ref held, -bytes);

    /// <summary>An entry of <paramref name="bytes"/> was dropped for <paramref name="reason"/>.</summary>
    public void Evicted(long bytes, string reason, int entries = 1)
    {
        Release(bytes);
        Interlocked.Add(ref evictions, entries);
        evicted?.Add(entries, new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>The heap bytes of a string; the shared empty string costs nothing.</summary>
    public static long StringBytes(string? s) => string.IsNullOrEmpty(s) ? 0 : StringOverhead + 2L * s.Length;
}

/// <summary>Eviction reasons: the <c>reason</c> tag of <c>*.evicted</c>.</summary>
public static class EvictionReasons
{
    /// <summary>Not seen for longer than it can matter (a session's inactivity gap, a link window).</summary>
    public const string Idle = "idle";

    /// <summary>Dropped, least recently seen first, to get back under the memory cap.</summary>
    public const string Memory = "memory";
}
