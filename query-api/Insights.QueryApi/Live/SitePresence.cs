using System.Text.Json;

namespace Insights.QueryApi.Live;

/// <summary>A change as the stream sends it: its id, its event name and its JSON data, serialized once for every reader.</summary>
public sealed record LiveChange(long Id, string Event, byte[] Data);

/// <summary>
/// One site's visitors and its recent changes. Every change gets the next id and goes into a ring of the last
/// <see cref="LiveOptions.ReplayEvents"/>: a reader resumes from any id still in it and is told to reset otherwise.
/// </summary>
/// <remarks>
/// Ids start at the instance's start time in microseconds since the Unix epoch and count up by one: they only grow,
/// across restarts too (unless a site averaged over a million changes a second), so an id from before a restart is
/// simply too old and gets a reset, never someone else's change.
/// </remarks>
public sealed class SitePresence
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly LiveChange?[] ring;
    private int head;
    private int count;
    private long nextId;
    private TaskCompletionSource changed = NewSignal();

    internal SitePresence(string site, int replayEvents, long firstId)
    {
        Site = site;
        ring = new LiveChange?[replayEvents];
        nextId = firstId;
    }

    public string Site { get; }

    /// <summary>Held while reading or changing <see cref="Visitors"/> and the ring.</summary>
    internal Lock Gate { get; } = new();

    internal Dictionary<string, PresentVisitor> Visitors { get; } = new(StringComparer.Ordinal);

    /// <summary>The id of the latest change (one before the first when there is none yet).</summary>
    public long LastId
    {
        get
        {
            lock (Gate)
            {
                return nextId - 1;
            }
        }
    }

    /// <summary>Appends a change and wakes the readers. Call under <see cref="Gate"/>.</summary>
    internal void Publish<T>(string name, T data)
    {
        var change = new LiveChange(nextId++, name, JsonSerializer.SerializeToUtf8Bytes(data, Json));
        if (count == ring.Length)
        {
            head = (head + 1) % ring.Length;
            count--;
        }

        ring[(head + count) % ring.Length] = change;
        count++;
        var signal = changed;
        changed = NewSignal();
        signal.TrySetResult();
    }

    /// <summary>
    /// The changes after <paramref name="after"/> (at most <paramref name="max"/>), and a task that completes at the
    /// next change. Null changes: <paramref name="after"/> is no longer (or never was) in the ring — reset.
    /// </summary>
    public (IReadOnlyList<LiveChange>? Changes, Task Next) Read(long after, int max)
    {
        lock (Gate)
        {
            var first = count == 0 ? nextId : ring[head]!.Id;
            if (after < first - 1 || after > nextId - 1)
            {
                return (null, changed.Task);
            }

            var skip = (int)(after + 1 - first);
            var take = Math.Min(max, count - skip);
            var changes = new LiveChange[take];
            for (var i = 0; i < take; i++)
            {
                changes[i] = ring[(head + skip + i) % ring.Length]!;
            }

            return (changes, changed.Task);
        }
    }

    /// <summary>Every visitor now and the id of the latest change, read together: resuming from the id misses nothing.</summary>
    public (List<LiveVisitor> Visitors, long EventId) Snapshot(DateTimeOffset now)
    {
        lock (Gate)
        {
            return ([.. Visitors.Values.OrderByDescending(v => v.LastSeen).Select(v => v.View(now))], nextId - 1);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
