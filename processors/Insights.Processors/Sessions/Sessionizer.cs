using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Insights.Contracts;
using Insights.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Insights.Processors.Sessions;

/// <summary>
/// Cuts visitors' events into sessions (a gap of more than <see cref="SessionizerOptions.InactivityMinutes"/> starts a new
/// one) and remembers each visitor's latest session. Called by the consumer loop only (rebalance callbacks run on the
/// same thread), so it takes no locks.
/// </summary>
/// <remarks>
/// <para><b>Memory is a cache of ClickHouse.</b> The state of a visitor here is exactly what the <c>sessions</c> table
/// holds: a batch folds into private copies, and they replace the memory only after the batch's events and sessions
/// were written (<see cref="Commit"/>). A visitor that is not in memory (a partition just assigned after a restart or
/// a rebalance, a visitor evicted for room, or a late event older than what memory covers) is read from ClickHouse
/// first (<see cref="Plan"/>, <see cref="Absorb"/>), so a session continues across restarts instead of splitting.</para>
/// <para><b>Replays.</b> Kafka is at-least-once: after a crash the batch whose offsets were not committed is read
/// again. Each session row records the highest offset folded into it; an event at or below the visitor's highest
/// stored offset (and received no later than the latest stored event, which tells a replay from a recreated topic
/// whose offsets restart at zero) is already counted, and its event row already stored with its session id, so it is
/// skipped. Session ids are a hash of the opening event, so replaying the same events rebuilds the same rows. An
/// operator's replay (a copy at a new offset, marked <see cref="EventCodec.ReplayHeader"/>) of an event a stored session
/// already spans gets that session's id without being counted again, so its row can be rewritten re-enriched; a page
/// view's new place, device or company updates the session at the same version.</para>
/// <para><b>Late events</b> (an event older than the visitor's latest session) join the session whose span, widened
/// by the inactivity gap, contains them; the sessions of that period are read from ClickHouse when memory no longer
/// covers it.</para>
/// <para><b>Memory is bounded in bytes</b> (<see cref="SessionizerOptions.MaxMemoryBytes"/>), not in visitors: a
/// visitor's cost is estimated from its strings (ids of up to 256 characters, pages, referrers, recent event ids), and
/// over the cap the least recently seen are dropped after a batch is committed. An evicted visitor is an unknown one:
/// the partition remembers how late the evicted sessions ended, so the visitor's next event is looked up (the same
/// path as after a restart) instead of opening a second session.</para>
/// </remarks>
public sealed class Sessionizer(IOptions<SessionizerOptions> options, TimeProvider time, IMeterFactory? meterFactory = null)
{
    private const int RecentIdsKept = 32;
    private const string EngagementEvent = "engagement";

    // An engagement ping reports the time a page was visible since the last ping; more than this is a clock gone wrong.
    private const long MaxEngagedMsPerPing = 30 * 60 * 1000;

    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    private readonly SessionizerOptions settings = options.Value;
    private readonly TimeSpan gap = options.Value.Inactivity;
    private readonly TimeSpan skew = TimeSpan.FromMinutes(options.Value.MaxClockSkewMinutes);
    private readonly Dictionary<int, PartitionMemory> memory = [];
    private readonly MemoryBudget budget = new(options.Value.MaxMemoryBytes, meterFactory, ProcessorMetrics.MeterName, "insights.processors.sessions");
    private long lastSweep = Stopwatch.GetTimestamp();
    private int count;

    /// <summary>Visitors whose latest session is in memory.</summary>
    public int VisitorsInMemory => count;

    /// <summary>The estimated bytes of every visitor in memory; at most <see cref="SessionizerOptions.MaxMemoryBytes"/> after a commit.</summary>
    public long BytesInMemory => budget.HeldBytes;

    /// <summary>Visitors dropped from memory since start (idle or for room).</summary>
    public long Evictions => budget.Evictions;

    /// <summary>The visitors of a batch that memory cannot answer for, with the earliest time each one's events need.</summary>
    public List<LookupNeed> Plan(IReadOnlyList<SessionInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var earliest = new Dictionary<(int Partition, VisitorKey Visitor), DateTime>();
        var firstReceived = new Dictionary<int, DateTime>();
        foreach (var input in inputs)
        {
            var key = (input.Partition, new VisitorKey(input.Event.SiteId, input.Event.AnonymousId!));
            var at = input.Event.Timestamp.UtcDateTime;
            earliest[key] = earliest.TryGetValue(key, out var known) && known < at ? known : at;
            var receivedAt = input.Event.ReceivedAt.UtcDateTime;
            firstReceived[input.Partition] = firstReceived.TryGetValue(input.Partition, out var first) && first < receivedAt ? first : receivedAt;
        }

        // The first batch after a partition was assigned marks where this processor started seeing all of its events.
        foreach (var (partition, receivedAt) in firstReceived)
        {
            Partition(partition).FirstReceivedAt ??= receivedAt;
        }

        var needs = new List<LookupNeed>();
        foreach (var ((partitionId, visitor), at) in earliest)
        {
            var since = at - gap;
            var partition = memory[partitionId];
            if (partition.Visitors.TryGetValue(visitor, out var state))
            {
                if (since < state.CoveredFrom)
                {
                    needs.Add(new LookupNeed(partitionId, visitor, since));
                }
            }
            else if (since > partition.KnowsEverythingAfter(skew))
            {
                // This processor has consumed the partition since long before the window that matters, and nothing of
                // this visitor in it is in memory or was evicted: a new visitor (or one back after a long pause), with
                // nothing in ClickHouse to continue and nothing to replay. No look-up.
                Put(partition, visitor, new VisitorState { CoveredFrom = since });
            }
            else
            {
                needs.Add(new LookupNeed(partitionId, visitor, since));
            }
        }

        return needs;
    }

    /// <summary>Takes what ClickHouse holds for a looked-up visitor (every session ending at or after <see cref="LookupNeed.Since"/>).</summary>
    public void Absorb(LookupNeed need, IEnumerable<Session> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var partition = Partition(need.Partition);
        if (!partition.Visitors.TryGetValue(need.Visitor, out var state))
        {
            state = new VisitorState { CoveredFrom = need.Since };
        }
        else if (need.Since < state.CoveredFrom)
        {
            state.CoveredFrom = need.Since;
        }

        foreach (var session in stored)
        {
            var known = state.Sessions.FindIndex(s => s.Id == session.Id);
            if (known < 0)
            {
                state.Sessions.Add(session);
            }
            else if (state.Sessions[known].Events < session.Events)
            {
                state.Sessions[known] = session;
            }

            if (session.KafkaPartition == need.Partition && session.LastOffset > state.MaxOffset)
            {
                state.MaxOffset = session.LastOffset;
            }

            if (session.LastReceivedAt > state.MaxReceivedAt)
            {
                state.MaxReceivedAt = session.LastReceivedAt;
            }
        }

        state.Sessions.Sort(static (a, b) => a.StartedAt.CompareTo(b.StartedAt));
        // Counted with what it now holds: a visitor read back with many sessions costs what they cost.
        Put(partition, need.Visitor, state);
    }

    /// <summary>Folds a batch's visitor events (in Kafka order) into sessions, on copies; memory is unchanged until <see cref="Commit"/>.</summary>
    /// <param name="batchSize">The size of the caller's index space (<see cref="SessionInput.Index"/> is below it).</param>
    public FoldResult Fold(IReadOnlyList<SessionInput> inputs, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var ids = new string?[batchSize];
        var states = new Dictionary<(int, VisitorKey), VisitorState>();
        var changed = new List<Session>();
        var changedIds = new HashSet<Session>(ReferenceEqualityComparer.Instance);
        Dictionary<int, DateTime>? firstTimes = null;
        int replayed = 0, started = 0;
        foreach (var input in inputs)
        {
            var e = input.Event;
            var visitor = new VisitorKey(e.SiteId, e.AnonymousId!);
            var key = (input.Partition, visitor);
            if (!states.TryGetValue(key, out var state))
            {
                // Plan + Absorb put every visitor of the batch in memory, looked up or known; a visitor missing here
                // means the caller skipped them, and folding without its stored sessions would split them.
                state = (Find(input.Partition, visitor) ?? throw new InvalidOperationException(
                    $"Visitor {visitor} of partition {input.Partition} was neither in memory nor looked up before folding.")).Clone();
                states[key] = state;
            }

            // Times as ClickHouse keeps them (milliseconds), so what memory compares equals what a restart reads back.
            var at = Milliseconds(e.Timestamp.UtcDateTime);
            var receivedAt = Milliseconds(e.ReceivedAt.UtcDateTime);
            if (input.Offset <= state.MaxOffset && receivedAt <= state.MaxReceivedAt)
            {
                replayed++;
                continue;
            }

            if (input.Replay && receivedAt <= state.MaxReceivedAt && state.SessionAt(at, gap) is { } holder)
            {
                // An operator's replay (insights-admin events replay) of an event the visitor's sessions already hold:
                // its row is written again, re-enriched, replacing the stored one, with the session it belongs to; the
                // session does not count it twice, but takes what enrichment now says about the visitor (a company
                // database added, a geo fix), written at the same version so the new row replaces the old one.
                if (Reattributes(holder, input, at))
                {
                    if (!changedIds.Contains(holder))
                    {
                        var copy = holder.Clone();
                        state.Replace(holder, copy);
                        holder = copy;
                    }

                    Reattribute(holder, input, at);
                    if (changedIds.Add(holder))
                    {
                        changed.Add(holder);
                    }
                }

                ids[input.Index] = holder.Id;
                continue;
            }

            state.MaxOffset = Math.Max(state.MaxOffset, input.Offset);
            if (receivedAt > state.MaxReceivedAt)
            {
                state.MaxReceivedAt = receivedAt;
            }

            if (state.Recall(e.EventId) is { } first)
            {
                // The same event delivered twice (a client retry of a batch that did arrive): counted once here, and
                // its row written with the first delivery's time and session, so `events` collapses the two rows even
                // when ingest stamped each attempt with its own arrival. The session is the one that holds the first
                // time. When memory no longer holds it (a session that ended before the visitor's latest), no row is
                // written: the first delivery's row is stored, as a replayed event's is.
                if (state.SessionAt(Milliseconds(first), gap) is { } firstSession)
                {
                    ids[input.Index] = firstSession.Id;
                    if (first != e.Timestamp.UtcDateTime)
                    {
                        (firstTimes ??= [])[input.Index] = first;
                    }
                }
                else
                {
                    replayed++;
                }

                continue;
            }

            var session = state.SessionAt(at, gap);
            if (session is null)
            {
                session = new Session
                {
                    Id = Session.IdFor(e.SiteId, visitor.Visitor, e.EventId),
                    Site = e.SiteId,
                    Visitor = visitor.Visitor,
                    OpenedAt = at,
                    StartedAt = at,
                    EndedAt = at,
                };
                state.Add(session);
                started++;
            }
            else if (!changedIds.Contains(session))
            {
                // First change of a stored session in this batch: work on a copy, so memory keeps what ClickHouse has.
                var copy = session.Clone();
                state.Replace(session, copy);
                session = copy;
            }

            Apply(session, input, at);
            session.KafkaPartition = input.Partition;
            session.LastOffset = Math.Max(session.LastOffset, input.Offset);
            if (receivedAt > session.LastReceivedAt)
            {
                session.LastReceivedAt = receivedAt;
            }

            // The row's own value, not `at`: the retry's row must serialize exactly as the first one did.
            state.Tag(e.EventId, e.Timestamp.UtcDateTime);
            ids[input.Index] = session.Id;
            if (changedIds.Add(session))
            {
                changed.Add(session);
            }
        }

        return new FoldResult(ids, changed, states, replayed, started, firstTimes);
    }

    /// <summary>The batch is written (events and sessions): its visitors' states become the memory.</summary>
    public void Commit(FoldResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var now = time.GetTimestamp();
        foreach (var ((partitionId, visitor), state) in result.States)
        {
            state.KeepLatest();
            state.LastTouched = now;
            Put(Partition(partitionId), visitor, state);
        }

        if (time.GetElapsedTime(lastSweep) >= SweepInterval || budget.IsOver)
        {
            Sweep();
        }
    }

    /// <summary>Partitions this processor no longer owns: their next owner continues from ClickHouse, and so do we if
    /// they come back (another processor may have folded events of theirs meanwhile).</summary>
    public void Forget(IEnumerable<int> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        foreach (var partition in partitions)
        {
            if (memory.Remove(partition, out var forgotten))
            {
                count -= forgotten.Visitors.Count;
                foreach (var state in forgotten.Visitors.Values)
                {
                    budget.Release(state.Bytes);
                }
            }
        }
    }

    /// <summary>Puts (or re-measures) a visitor's state in memory, keeping the count and the bytes held exact.</summary>
    private void Put(PartitionMemory partition, VisitorKey visitor, VisitorState state)
    {
        if (partition.Visitors.TryGetValue(visitor, out var known))
        {
            budget.Release(known.Bytes);
        }
        else
        {
            count++;
        }

        state.Bytes = state.EstimateBytes(visitor);
        budget.Add(state.Bytes);
        partition.Visitors[visitor] = state;
    }

    private void Evict(PartitionMemory partition, VisitorKey visitor, VisitorState state, string reason)
    {
        partition.Evict(visitor, state);
        count--;
        budget.Evicted(state.Bytes, reason);
    }

    private VisitorState? Find(int partition, VisitorKey visitor) =>
        memory.TryGetValue(partition, out var known) && known.Visitors.TryGetValue(visitor, out var state) ? state : null;

    private PartitionMemory Partition(int partition)
    {
        if (!memory.TryGetValue(partition, out var known))
        {
            memory[partition] = known = new PartitionMemory();
        }

        return known;
    }

    /// <summary>
    /// Drops visitors idle for longer than the inactivity gap (their next event opens a new session, or is looked up if
    /// late), then, over the byte cap, the least recently seen down to a tenth under it. Only a performance matter: a
    /// dropped visitor is read back from ClickHouse (see <see cref="PartitionMemory.KnowsEverythingAfter"/>).
    /// </summary>
    private void Sweep()
    {
        lastSweep = time.GetTimestamp();
        var idle = gap + TimeSpan.FromMinutes(5);
        var over = budget.IsOver;
        var candidates = new List<(PartitionMemory Partition, VisitorKey Visitor, VisitorState State)>();
        foreach (var known in memory.Values)
        {
            foreach (var (visitor, state) in known.Visitors)
            {
                if (time.GetElapsedTime(state.LastTouched) > idle)
                {
                    Evict(known, visitor, state, EvictionReasons.Idle);
                }
                else if (over)
                {
                    candidates.Add((known, visitor, state));
                }
            }
        }

        if (budget.IsOver)
        {
            candidates.Sort(static (a, b) => a.State.LastTouched.CompareTo(b.State.LastTouched));
            foreach (var (known, visitor, state) in candidates)
            {
                if (budget.HeldBytes <= budget.TargetBytes)
                {
                    break;
                }

                Evict(known, visitor, state, EvictionReasons.Memory);
            }
        }
    }

    private void Apply(Session session, SessionInput input, DateTime at)
    {
        var e = input.Event;
        session.Events++;
        if (at < session.StartedAt)
        {
            session.StartedAt = at;
        }

        if (at > session.EndedAt)
        {
            session.EndedAt = at;
        }

        if (!string.IsNullOrEmpty(e.UserId))
        {
            session.UserId = e.UserId;
        }

        if (e.Type == EventTypes.Pageview)
        {
            ApplyPageview(session, input, at);
        }
        else if (e.Type == EventTypes.Group && !EventIds.IsPublic(e.EventId) && DeclaredCompany.Of(e.Properties) is var (companyId, companyName, companyDomain))
        {
            // The site's own word for the visitor's account (a Segment group call from its back end) outranks the guess
            // from the network: the visit is the declared company's from here on (a later page view from an office network
            // keeps it). A browser's group call is kept as an event but names no company: the public write key is in every
            // page, so anyone could make their visit "Microsoft" in a partner's list of corporate visitors.
            (session.CompanyId, session.CompanyName, session.CompanyDomain) = (companyId, companyName, companyDomain);
        }
        else if (e.Type == EventTypes.Track && e.Name == EngagementEvent)
        {
            session.EngagedMs += EngagedMs(e.Properties);
        }
        else
        {
            session.Interactions++;
        }
    }

    private void ApplyPageview(Session session, SessionInput input, DateTime at)
    {
        var e = input.Event;
        session.PageViews++;
        if (session.Pages.Count < settings.MaxPagesPerSession && !session.Pages.Contains(input.Path))
        {
            session.Pages.Add(input.Path);
        }

        if (session.PageViews == 1 || at >= session.ExitAt)
        {
            session.ExitPage = input.Path;
            session.ExitAt = at;
        }

        var attributes = input.Attributes;
        if (session.PageViews == 1 || at < session.EntryAt)
        {
            // The entry page view says how the visit began: its referrer, its tags, and who the visitor was then.
            session.EntryPage = input.Path;
            session.EntryAt = at;
            session.LandingReferrer = e.Referrer ?? "";
            session.ReferrerHost = EventRowMapper.ReferrerHostOf(e.Referrer);
            var tags = UtmTags.Of(e);
            (session.UtmSource, session.UtmMedium, session.UtmCampaign, session.UtmTerm, session.UtmContent) = tags;
            session.Channel = ChannelClassifier.Classify(session.ReferrerHost, e.Url, tags.Source, tags.Medium);
            if (attributes.Country.Length > 0 || session.Country.Length == 0)
            {
                (session.Country, session.Region, session.City) = (attributes.Country, attributes.Region, attributes.City);
            }

            if (attributes.Browser.Length > 0 || session.Browser.Length == 0)
            {
                (session.Browser, session.Os, session.DeviceType) = (attributes.Browser, attributes.Os, attributes.DeviceType);
            }
        }
        else
        {
            if (session.Country.Length == 0)
            {
                (session.Country, session.Region, session.City) = (attributes.Country, attributes.Region, attributes.City);
            }

            if (session.Browser.Length == 0)
            {
                (session.Browser, session.Os, session.DeviceType) = (attributes.Browser, attributes.Os, attributes.DeviceType);
            }
        }

        if (session.NetworkKind.Length == 0)
        {
            session.NetworkKind = attributes.NetworkKind;
        }

        // A visit is a company's once any of its page views came from the company's network (an office visitor who
        // later switches to a phone is still that company's visit).
        if (session.CompanyId.Length == 0 && attributes.CompanyId.Length > 0)
        {
            (session.CompanyId, session.CompanyName, session.CompanyDomain) = (attributes.CompanyId, attributes.CompanyName, attributes.CompanyDomain);
            session.NetworkKind = attributes.NetworkKind;
        }
    }

    /// <summary>
    /// Whether a replayed page view changes who its session says the visitor was, by the same rules as
    /// <see cref="ApplyPageview"/>: the entry page view's place and device, and a company once any page view names one.
    /// </summary>
    private static bool Reattributes(Session session, SessionInput input, DateTime at)
    {
        if (input.Event.Type != EventTypes.Pageview)
        {
            return false;
        }

        var a = input.Attributes;
        var entry = at == session.EntryAt;
        return (session.CompanyId.Length == 0 && a.CompanyId.Length > 0)
            || (entry && a.Country.Length > 0 && (session.Country, session.Region, session.City) != (a.Country, a.Region, a.City))
            || (entry && a.Browser.Length > 0 && (session.Browser, session.Os, session.DeviceType) != (a.Browser, a.Os, a.DeviceType));
    }

    private static void Reattribute(Session session, SessionInput input, DateTime at)
    {
        var a = input.Attributes;
        if (at == session.EntryAt)
        {
            if (a.Country.Length > 0)
            {
                (session.Country, session.Region, session.City) = (a.Country, a.Region, a.City);
            }

            if (a.Browser.Length > 0)
            {
                (session.Browser, session.Os, session.DeviceType) = (a.Browser, a.Os, a.DeviceType);
            }
        }

        if (session.CompanyId.Length == 0 && a.CompanyId.Length > 0)
        {
            (session.CompanyId, session.CompanyName, session.CompanyDomain) = (a.CompanyId, a.CompanyName, a.CompanyDomain);
            session.NetworkKind = a.NetworkKind;
        }
    }

    private static DateTime Milliseconds(DateTime utc) => new(utc.Ticks - utc.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);

    private static ulong EngagedMs(JsonElement? properties)
    {
        if (properties is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty("engaged_ms", out var value)
            && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var ms) && ms > 0)
        {
            return (ulong)Math.Min(ms, MaxEngagedMsPerPing);
        }

        return 0;
    }
}
