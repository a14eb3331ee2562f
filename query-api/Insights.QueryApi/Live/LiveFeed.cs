using System.Globalization;
using System.Text.Json;

namespace Insights.QueryApi.Live;

/// <summary>One Server-Sent Event: its id (what a client sends back as Last-Event-ID), name and JSON data.</summary>
public sealed record LiveFrame(string Id, string Event, byte[] Data);

/// <summary>
/// What <see cref="LiveStreamResult"/> writes: one site's changes (<see cref="SiteFeed"/>) or several sites' merged (the
/// partner view). A feed keeps its own position; the writer only asks for a snapshot or the changes after it.
/// </summary>
public abstract class LiveFeed
{
    /// <summary>True when the client's Last-Event-ID was understood: the stream continues after it without a snapshot.</summary>
    public abstract bool Resumed { get; }

    /// <summary>Everything present now, as one event's data, and the position moved to it.</summary>
    public abstract LiveFrame Snapshot(string name, DateTimeOffset now);

    /// <summary>
    /// The changes after the position (at most <paramref name="max"/>; the position moves past them) and a task that
    /// completes at the next change. Null changes: the position is gone from the replay ring — the writer resets.
    /// </summary>
    public abstract (IReadOnlyList<LiveFrame>? Changes, Task Next) Read(int max);

    /// <summary>Keeps the changes of the feed's sites while the stream is open (<see cref="SitePresence.Follow"/>).</summary>
    public abstract IDisposable Follow();
}

/// <summary>One site's stream: ids are the site's change ids.</summary>
public sealed class SiteFeed(SitePresence presence, long? resumeAfter) : LiveFeed
{
    private long cursor = resumeAfter ?? 0;

    public SitePresence Presence => presence;

    public override bool Resumed => resumeAfter is not null;

    public override IDisposable Follow() => presence.Follow();

    public override LiveFrame Snapshot(string name, DateTimeOffset now)
    {
        var (visitors, id) = presence.Snapshot(now);
        cursor = id;
        var snapshot = new LiveSnapshot(presence.Site, id, visitors.Count, visitors.Count, visitors, LiveQueryHandlers.Attribution);
        return new LiveFrame(id.ToString(CultureInfo.InvariantCulture), name, JsonSerializer.SerializeToUtf8Bytes(snapshot, SitePresence.Json));
    }

    public override (IReadOnlyList<LiveFrame>? Changes, Task Next) Read(int max)
    {
        var (changes, next) = presence.Read(cursor, max);
        if (changes is null)
        {
            return (null, next);
        }

        var frames = new LiveFrame[changes.Count];
        for (var i = 0; i < frames.Length; i++)
        {
            frames[i] = new LiveFrame(changes[i].Id.ToString(CultureInfo.InvariantCulture), changes[i].Event, changes[i].Data);
            cursor = changes[i].Id;
        }

        return (frames, next);
    }
}
