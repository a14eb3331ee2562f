using System.Collections.Concurrent;

namespace Insights.DevStack.ClickHouse;

/// <summary>
/// HTTP sessions (<c>session_id</c>): one engine connection per session, so SET, USE and temporary
/// tables outlive a request. Like ClickHouse, a session runs one query at a time (a second concurrent
/// one gets SESSION_IS_LOCKED) and closes after <c>session_timeout</c> seconds idle.
/// </summary>
internal sealed class SessionRegistry(ChdbEngine engine, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<string, Session> sessions = new(StringComparer.Ordinal);
    private readonly Lock sweepLock = new();
    private readonly TimeProvider time = time;

    public int Count => sessions.Count;

    /// <summary>Takes the session for one request; dispose the lease to give it back.</summary>
    public Lease Acquire(string id, TimeSpan idleTimeout)
    {
        Sweep();
        Session session;
        lock (sweepLock)
        {
            // Created under the lock: a racing GetOrAdd factory would open a connection nobody closes.
            if (!sessions.TryGetValue(id, out session!))
            {
                session = new Session(engine.Connect(null)) { LastUsed = time.GetUtcNow() };
                sessions[id] = session;
            }
        }

        if (!session.Gate.Wait(0))
        {
            throw new ChdbException(373,
                $"Code: 373. DB::Exception: Session {id} is locked by a concurrent client. (SESSION_IS_LOCKED)");
        }

        session.IdleTimeout = idleTimeout;
        return new Lease(session, this);
    }

    /// <summary>Closes sessions idle past their timeout. Runs on each acquire; cheap when there are none.</summary>
    public void Sweep()
    {
        lock (sweepLock)
        {
            var now = time.GetUtcNow();
            foreach (var (id, session) in sessions)
            {
                if (now - session.LastUsed > session.IdleTimeout && session.Gate.Wait(0))
                {
                    sessions.TryRemove(id, out _);
                    session.Connection.Dispose();
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var (_, session) in sessions)
        {
            session.Connection.Dispose();
        }

        sessions.Clear();
    }

    internal sealed class Session(ChdbConnection connection)
    {
        public ChdbConnection Connection { get; } = connection;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public DateTimeOffset LastUsed { get; set; } = DateTimeOffset.MinValue;

        public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);
    }

    internal readonly struct Lease(Session session, SessionRegistry owner) : IDisposable
    {
        public ChdbConnection Connection => session.Connection;

        public void Dispose()
        {
            session.LastUsed = owner.time.GetUtcNow();
            session.Gate.Release();
        }
    }
}
