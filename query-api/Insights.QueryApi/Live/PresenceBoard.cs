using System.Collections.Concurrent;
using Insights.Contracts;
using Insights.QueryApi.Companies;
using Insights.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live;

/// <summary>
/// Who is on each site now: the presence state machine. Live events (<see cref="Apply"/>) join visitors, move them
/// between pages and chat states, and mark them idle; <see cref="Sweep"/> lets go of those not seen for
/// <see cref="LiveOptions.IdleTimeout"/>; the memory cap evicts the longest-unseen first. Each change is published to
/// the site's stream (<see cref="SitePresence"/>).
/// </summary>
/// <remarks>
/// Applied by one consumer thread; read by any number of requests. Each site has its own lock, so a busy site's
/// readers never wait for another's. Time is the server's: a visitor's last-seen is the latest event's received time
/// (clients' clocks are not trusted to order presence), and events older than the idle timeout when they arrive join
/// nobody (a lagging processor must not resurrect people who left).
/// </remarks>
public sealed class PresenceBoard
{
    private const string EngagementEvent = "engagement";

    private readonly ConcurrentDictionary<string, SitePresence> sites = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Site, string Visitor)> joined = new();
    private readonly LiveOptions options;
    private readonly LeadScoreOptions leads;
    private readonly string[] intentPaths;
    private readonly double[] intentWeights;
    private readonly TimeProvider time;
    private readonly LiveMetrics metrics;
    private readonly long firstId;
    private readonly IPresenceWatcher[] watchers;
    private volatile bool ready;

    public PresenceBoard(IOptions<LiveOptions> options, IOptions<LeadScoreOptions> leads, TimeProvider time, LiveMetrics metrics,
        IEnumerable<IPresenceWatcher>? watchers = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(leads);
        ArgumentNullException.ThrowIfNull(time);
        this.options = options.Value;
        this.leads = leads.Value;
        (intentPaths, intentWeights) = (this.leads.IntentPaths(), this.leads.IntentWeights());
        this.time = time;
        this.metrics = metrics;
        this.watchers = watchers?.ToArray() ?? [];
        Budget = new MemoryBudget(this.options.MaxBytes);
        firstId = time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        metrics.Observe(this);
    }

    public MemoryBudget Budget { get; }

    /// <summary>The first change id of every site in this instance (time-based: an id from an earlier instance is older).</summary>
    public long FirstId => firstId;

    /// <summary>True once the start-up rebuild finished (or was skipped): before, a snapshot would wrongly say "nobody".</summary>
    public bool IsReady => ready;

    public void MarkReady() => ready = true;

    public int VisitorCount => sites.Values.Sum(s => s.Visitors.Count);

    /// <summary>The site's presence, created empty on first use.</summary>
    public SitePresence Site(string site) => sites.GetOrAdd(site, static (id, board) => new SitePresence(id, board.options.ReplayEvents, board.firstId, board.time, board.options.ResumeWindow, board.Watched), this);

    /// <summary>A site is watched again: its visitors whose visits were not looked up (<see cref="VisitHistory"/> skips
    /// unwatched sites) are queued for it.</summary>
    private void Watched(SitePresence site)
    {
        foreach (var visitor in site.Visitors.Values)
        {
            if (visitor.Visits is null)
            {
                joined.Enqueue((site.Site, visitor.Id));
            }
        }
    }

    /// <summary>Whether someone follows the site or read it within <see cref="LiveOptions.ResumeWindow"/>.</summary>
    public bool IsWatched(string siteId)
    {
        if (!sites.TryGetValue(siteId, out var site))
        {
            return false;
        }

        lock (site.Gate)
        {
            return site.Watched;
        }
    }

    /// <summary>Applies one event; <paramref name="publish"/> false rebuilds state without stream changes (start-up).</summary>
    public void Apply(LiveEvent e, bool publish = true)
    {
        ArgumentNullException.ThrowIfNull(e);
        var now = time.GetUtcNow();
        if (string.IsNullOrEmpty(e.VisitorId))
        {
            metrics.Skipped("no_visitor");
            return;
        }

        if (now - e.ReceivedAt > options.IdleTimeout)
        {
            metrics.Skipped("stale");
            return;
        }

        // An event that happened an idle timeout before it arrived is history sent now (a server's import, a replay):
        // the visitor was on the site then, not now. Browsers' clocks are corrected by ingest (sentAt), so this is no clock.
        if (e.ReceivedAt - e.Timestamp > options.IdleTimeout)
        {
            metrics.Skipped("historical");
            return;
        }

        var site = Site(e.SiteId);
        lock (site.Gate)
        {
            var joined = !site.Visitors.TryGetValue(e.VisitorId, out var visitor);
            visitor ??= new PresentVisitor(e.VisitorId);
            if (!visitor.FirstTime(e.EventId))
            {
                metrics.Skipped("duplicate");
                return;
            }

            var change = Fold(visitor, e, joined);
            if (joined)
            {
                site.Visitors[visitor.Id] = visitor;
                this.joined.Enqueue((site.Site, visitor.Id));
            }

            var bytes = visitor.EstimateBytes();
            Budget.Add(bytes - visitor.Bytes);
            visitor.Bytes = bytes;
            if (publish && change is not null)
            {
                site.Publish(change, visitor, now);
            }

            if (publish)
            {
                foreach (var watcher in watchers)
                {
                    watcher.Changed(site, visitor, e, now);
                }
            }
        }

        if (Budget.IsOver)
        {
            Evict();
        }
    }

    /// <summary>Visitors who joined since the last call (at most <paramref name="max"/>), whose visits are to be looked up.</summary>
    public List<(string Site, string Visitor)> TakeJoined(int max)
    {
        var taken = new List<(string, string)>();
        while (taken.Count < max && joined.TryDequeue(out var next))
        {
            taken.Add(next);
        }

        return taken;
    }

    /// <summary>Sets a present visitor's visit count (from storage); a change is a <c>visitor_updated</c>.</summary>
    public void SetVisits(string siteId, string visitorId, long visits)
    {
        var site = Site(siteId);
        lock (site.Gate)
        {
            if (site.Visitors.TryGetValue(visitorId, out var visitor) && visitor.Visits != visits)
            {
                visitor.Visits = visits;
                site.Publish(LiveEventNames.Updated, visitor, time.GetUtcNow());
            }
        }
    }

    /// <summary>The visitor after one event, and the stream event it makes (null: nothing a viewer sees changed).</summary>
    private string? Fold(PresentVisitor v, LiveEvent e, bool joined)
    {
        string? change = joined ? LiveEventNames.Joined : null;
        var seen = e.ReceivedAt > v.LastSeen ? e.ReceivedAt : v.LastSeen;
        if (joined)
        {
            v.VisitStartedAt = e.Visit?.StartedAt ?? e.Timestamp;
            v.PageSince = seen;
        }

        if (e.Visit is { } visit && visit.SessionId != v.SessionId)
        {
            if (v.SessionId is not null && visit.StartedAt < v.VisitStartedAt)
            {
                // A late event of an earlier visit: presence shows the latest visit only.
                v.LastSeen = seen;
                return null;
            }

            v.StartVisit(visit.SessionId, visit.StartedAt);
            change ??= LiveEventNames.Updated;
        }

        v.LastSeen = seen;
        if (e.Visit is { } current)
        {
            v.Referrer ??= current.LandingReferrer;
            v.Channel ??= current.Channel;
            v.Campaign ??= current.Campaign;
        }
        else if (joined)
        {
            v.Referrer = e.Referrer;
            v.Campaign = e.Campaign;
        }

        if (e.UserId is { Length: > 0 } user && user != v.UserId)
        {
            v.UserId = user;
            change ??= LiveEventNames.Updated;
        }

        if ((e.Company is not null && e.Company != v.Company) || (e.Geo is not null && e.Geo != v.Geo) || (e.Device is not null && e.Device != v.Device))
        {
            (v.Company, v.Geo, v.Device) = (e.Company ?? v.Company, e.Geo ?? v.Geo, e.Device ?? v.Device);
            change ??= LiveEventNames.Updated;
        }

        var hidden = e.Type == EventTypes.Track && e.Name == EngagementEvent;
        if (v.Active == hidden)
        {
            // The tracker reports engagement when the tab is hidden or the page left; anything else is activity.
            v.Active = !hidden;
            change ??= LiveEventNames.Updated;
        }

        switch (e.Type)
        {
            case EventTypes.Pageview or EventTypes.Screen:
                var page = new LivePage(e.Url, e.Path, e.Title);
                if (page != v.Page)
                {
                    v.Page = page;
                    v.PageSince = seen;
                    change = joined ? change : LiveEventNames.PageChanged;
                }
                else
                {
                    change ??= LiveEventNames.Updated;
                }

                // The visit's own count (as of its batch) is the truth, also for a visitor who joined mid-visit.
                v.PageViews = e.Visit is { PageViews: > 0 } counted ? Math.Max(v.PageViews, counted.PageViews) : v.PageViews + 1;
                if (e.Path is { } path && v.Pages.Count < options.MaxPagesPerVisit && !v.Pages.Contains(path, StringComparer.Ordinal))
                {
                    v.Pages.Add(path);
                    v.IntentPoints += Intent(path);
                }

                v.Score = Score(v);
                break;
            case EventTypes.ChatStarted:
                v.Chats++;
                v.ChatState = ChatStates.Chatting;
                change ??= LiveEventNames.Updated;
                break;
            case EventTypes.ChatMessage when v.ChatState != ChatStates.Chatting:
                v.ChatState = ChatStates.Chatting;
                change ??= LiveEventNames.Updated;
                break;
            case EventTypes.ChatEnded when v.ChatState != ChatStates.ChatEnded:
                v.ChatState = ChatStates.ChatEnded;
                change ??= LiveEventNames.Updated;
                break;
            case EventTypes.Order when e.Amount is { } amount:
                (v.OrderValue, v.Currency) = ((v.OrderValue ?? 0) + amount, e.Currency ?? v.Currency);
                change ??= LiveEventNames.Updated;
                break;
            case EventTypes.Track when e.Amount is { } cart && !hidden:
                (v.CartValue, v.Currency) = (cart, e.Currency ?? v.Currency);
                change ??= LiveEventNames.Updated;
                break;
        }

        return change;
    }

    /// <summary>The visit's lead score, as the companies report scores one fresh visit (no decay): its intent points are
    /// summed as its distinct pages are added, so a page view costs one page's look-up, not the visit's.</summary>
    private int Score(PresentVisitor v)
    {
        var points = leads.VisitWeight + (leads.PageViewWeight * Math.Min(Math.Max(v.PageViews - 1, 0), leads.PageViewCap)) + v.IntentPoints;
        return (int)Math.Round(100 * (1 - Math.Exp(-points / leads.Scale)));
    }

    /// <summary>The intent weight of one page: the highest of the intent paths it is or lies under (case-insensitive).</summary>
    private double Intent(string page)
    {
        var lower = page.ToLowerInvariant();
        var best = 0.0;
        for (var i = 0; i < intentPaths.Length; i++)
        {
            var path = intentPaths[i];
            if (lower == path || (lower.StartsWith(path, StringComparison.Ordinal) && lower.Length > path.Length && (path == "/" || lower[path.Length] == '/')))
            {
                best = Math.Max(best, intentWeights[i]);
            }
        }

        return best;
    }

    /// <summary>
    /// Lets go of visitors not seen for the idle timeout and gives every watcher a tick for each visitor who stays (time
    /// conditions: time on site, time on page); returns how many left.
    /// </summary>
    public int Sweep()
    {
        var now = time.GetUtcNow();
        var cutoff = now - options.IdleTimeout;
        var left = 0;
        foreach (var site in sites.Values)
        {
            lock (site.Gate)
            {
                foreach (var visitor in site.Visitors.Values.Where(v => v.LastSeen < cutoff).ToList())
                {
                    Leave(site, visitor, EvictionReasons.Idle);
                    left++;
                }

                if (watchers.Length > 0 && ready)
                {
                    foreach (var visitor in site.Visitors.Values)
                    {
                        foreach (var watcher in watchers)
                        {
                            watcher.Tick(site, visitor, now);
                        }
                    }
                }
            }
        }

        return left;
    }

    /// <summary>Drops the longest-unseen visitors of every site until presence is back under a tenth below the cap.</summary>
    private void Evict()
    {
        var oldest = sites.Values
            .SelectMany(site => { lock (site.Gate) { return site.Visitors.Values.Select(v => (site, v, v.LastSeen)).ToList(); } })
            .OrderBy(x => x.LastSeen)
            .ToList();
        foreach (var (site, visitor, _) in oldest)
        {
            if (Budget.HeldBytes <= Budget.TargetBytes)
            {
                break;
            }

            lock (site.Gate)
            {
                if (site.Visitors.TryGetValue(visitor.Id, out var current) && ReferenceEquals(current, visitor))
                {
                    Leave(site, visitor, EvictionReasons.Memory);
                }
            }
        }
    }

    private void Leave(SitePresence site, PresentVisitor visitor, string reason)
    {
        site.Visitors.Remove(visitor.Id);
        Budget.Evicted(visitor.Bytes, reason);
        metrics.Left(reason);
        site.Publish(LiveEventNames.Left, new LiveDeparture(visitor.Id, reason == EvictionReasons.Memory ? "evicted" : reason));
        foreach (var watcher in watchers)
        {
            watcher.Left(site, visitor);
        }
    }
}
