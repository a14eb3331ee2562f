using Insights.Contracts;

namespace Insights.QueryApi.Live;

/// <summary>
/// Something that acts on who is present: invitation rules, alerts. The board calls every registered watcher (DI:
/// <c>IPresenceWatcher</c>) under the site's lock, so a watcher reads the visitor consistently and may publish on the
/// site's stream (<see cref="SitePresence.Publish"/>), but must be quick: slow work (deliveries, storage) goes to a
/// queue of its own. Watchers see live changes only: the start-up rebuild replays history without them, so a restart
/// never fires a rule twice for what happened before it.
/// </summary>
public interface IPresenceWatcher
{
    /// <summary>A live event was applied to the visitor (also when nothing a viewer sees changed).</summary>
    void Changed(SitePresence site, PresentVisitor visitor, LiveEvent e, DateTimeOffset now);

    /// <summary>Once a second for each present visitor: conditions on time (on site, on page) become true without an event.</summary>
    void Tick(SitePresence site, PresentVisitor visitor, DateTimeOffset now);

    /// <summary>The visitor left (idle or evicted).</summary>
    void Left(SitePresence site, PresentVisitor visitor);
}
