using System.Text.Json;

namespace Insights.QueryApi.Live;

/// <summary>
/// A change as the stream sends it: its id, its event name and its JSON data, serialized once for every reader, when
/// the first one reads it: most changes of most sites are never read (nobody has that site's live page open), and
/// serializing each on arrival cost the live reader a large share of its time per event.
/// </summary>
/// <remarks>The data is a snapshot (a record with copied lists), so serializing it later gives what it was when published.</remarks>
public abstract class LiveChange(long id, string @event)
{
    private byte[]? data;

    public long Id { get; } = id;

    public string Event { get; } = @event;

    /// <summary>The change's JSON; made once (two first readers at once may both make it, and both get the same bytes).</summary>
    public byte[] Data
    {
        get
        {
            var made = Volatile.Read(ref data);
            if (made is null)
            {
                made = Serialize();
                Volatile.Write(ref data, made);
            }

            return made;
        }
    }

    private protected abstract byte[] Serialize();

    internal static LiveChange Of<T>(long id, string name, T snapshot) => new Typed<T>(id, name, snapshot);

    // Serialized as the type it was published as, exactly as an eager SerializeToUtf8Bytes<T> would have.
    private sealed class Typed<T>(long id, string name, T snapshot) : LiveChange(id, name)
    {
        private protected override byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(snapshot, SitePresence.Json);
    }
}

/// <summary>
/// One site's visitors and its recent changes. Every change gets the next id and goes into a ring of the last
/// <see cref="LiveOptions.ReplayEvents"/>: a reader resumes from any id still in it and is told to reset otherwise.
/// </summary>
/// <remarks>
/// Ids start at the instance's start time in microseconds since the Unix epoch and count up by one: they only grow,
/// across restarts too (unless a site averaged over a million changes a second), so an id from before a restart is
/// simply too old and gets a reset, never someone else's change.
/// <para>
/// Changes are kept only while someone may ask for them: while a stream follows the site (<see cref="Follow"/>), and for
/// <see cref="LiveOptions.ResumeWindow"/> after the site was last read (a snapshot, a stream's read, a stream closing).
/// Most sites have nobody watching most of the time, and then a change is only its id: no copy of the visitor is made
/// and the ring is emptied. The ids still count up, so a reader coming back after such a time finds its id gone from
/// the ring and gets a reset, never a silent gap.
/// </para>
/// </remarks>
public sealed class SitePresence
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly LiveChange?[] ring;
    private readonly TimeProvider time;
    private readonly TimeSpan resumeWindow;
    private readonly Action<SitePresence>? watched;
    private int head;
    private int count;
    private long nextId;
    private TaskCompletionSource changed = NewSignal();
    // Whether a reader holds the current signal's task: a change only needs a new signal when one was handed out.
    private bool signalTaken;
    private int followers;
    private DateTimeOffset lastRead;

    /// <param name="watched">Called (under <see cref="Gate"/>) when someone reads or follows the site after nobody
    /// did for the resume window: what was left undone for an unwatched site is done now.</param>
    internal SitePresence(string site, int replayEvents, long firstId, TimeProvider time, TimeSpan resumeWindow, Action<SitePresence>? watched = null)
    {
        Site = site;
        ring = new LiveChange?[replayEvents];
        nextId = firstId;
        this.time = time;
        this.resumeWindow = resumeWindow;
        this.watched = watched;
        // Never read: a site first asked for by a reader is created by that read, which counts.
        lastRead = DateTimeOffset.MinValue;
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

    /// <summary>Appends a change and wakes the readers; while nobody may read it, only its id is taken (see the remarks).
    /// Call under <see cref="Gate"/>.</summary>
    internal void Publish<T>(string name, T data)
    {
        if (!Kept())
        {
            return;
        }

        Append(LiveChange.Of(nextId++, name, data));
    }

    /// <summary>A change whose data is the visitor as they are now: the copy is made only when the change is kept. Call
    /// under <see cref="Gate"/>.</summary>
    internal void Publish(string name, PresentVisitor visitor, DateTimeOffset now)
    {
        if (!Kept())
        {
            return;
        }

        Append(LiveChange.Of(nextId++, name, visitor.View(now)));
    }

    /// <summary>Whether someone follows the site or read it within the resume window. Call under <see cref="Gate"/>.</summary>
    internal bool Watched => followers > 0 || time.GetUtcNow() - lastRead <= resumeWindow;

    /// <summary>Someone reads the site now. Call under <see cref="Gate"/>.</summary>
    private void MarkRead()
    {
        var was = Watched;
        lastRead = time.GetUtcNow();
        if (!was)
        {
            watched?.Invoke(this);
        }
    }

    /// <summary>Whether the next change is kept; when not, it takes its id here, and the ring is let go of.</summary>
    private bool Kept()
    {
        if (Watched)
        {
            return true;
        }

        nextId++;
        if (count > 0)
        {
            Array.Clear(ring);
            (head, count) = (0, 0);
        }

        // Whoever waits on the signal (a reader that stopped following mid-read) wakes to find its id gone: a reset.
        Wake();
        return false;
    }

    private void Append(LiveChange change)
    {
        if (count == ring.Length)
        {
            head = (head + 1) % ring.Length;
            count--;
        }

        ring[(head + count) % ring.Length] = change;
        count++;
        Wake();
    }

    private void Wake()
    {
        if (!signalTaken)
        {
            return;
        }

        var signal = changed;
        changed = NewSignal();
        signalTaken = false;
        signal.TrySetResult();
    }

    /// <summary>Keeps the site's changes while the result is not disposed: a stream follows the site for as long as it is open.</summary>
    public IDisposable Follow()
    {
        lock (Gate)
        {
            MarkRead();
            followers++;
        }

        return new Following(this);
    }

    private sealed class Following(SitePresence site) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 1)
            {
                return;
            }

            lock (site.Gate)
            {
                site.followers--;
                // A client that lost its connection reconnects with its Last-Event-ID within the window.
                site.lastRead = site.time.GetUtcNow();
            }
        }
    }

    /// <summary>
    /// The changes after <paramref name="after"/> (at most <paramref name="max"/>), and a task that completes at the
    /// next change. Null changes: <paramref name="after"/> is no longer (or never was) in the ring — reset.
    /// </summary>
    public (IReadOnlyList<LiveChange>? Changes, Task Next) Read(long after, int max)
    {
        lock (Gate)
        {
            MarkRead();
            signalTaken = true;
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
        var selection = Select(now, null, int.MaxValue);
        return (selection.Visitors, selection.EventId);
    }

    /// <summary>
    /// The <paramref name="limit"/> most recently seen visitors matching <paramref name="filter"/> (null: everyone), how
    /// many are present and how many match, and the id of the latest change, all read together. Only the listed
    /// visitors are turned into views: the lock is held for a filter pass and a partial sort, not for every visitor's copy.
    /// </summary>
    public LiveSelection Select(DateTimeOffset now, LiveFilter? filter, int limit)
    {
        lock (Gate)
        {
            MarkRead();
            List<PresentVisitor> matching = filter is null ? [.. Visitors.Values] : [.. Visitors.Values.Where(filter.Matches)];
            List<LiveVisitor> listed = [.. matching.OrderByDescending(v => v.LastSeen).Take(limit).Select(v => v.View(now))];
            return new LiveSelection(listed, Visitors.Count, matching.Count, nextId - 1);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>What a snapshot lists of a site: the visitors shown, everyone present, those matching, and the stream position.</summary>
public sealed record LiveSelection(List<LiveVisitor> Visitors, int Present, int Matching, long EventId);
