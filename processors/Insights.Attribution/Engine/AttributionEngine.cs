using System.Diagnostics.Metrics;
using Insights.Contracts;
using Insights.ServiceDefaults;

namespace Insights.Attribution.Engine;

/// <summary>
/// The attribution core: pure and synchronous, no I/O. A batch goes through it in two steps around a load:
/// <list type="number">
/// <item><see cref="Prepare"/> turns events into facts (links, chat and order events, goal completions) and names the
/// nodes whose components the batch touches;</item>
/// <item>the shell loads those components' stored facts into a <see cref="FactSet"/> (see <c>ComponentLoader</c>);</item>
/// <item><see cref="Compute"/> adds the batch's facts and recomputes every touched component: persons, chat and order
/// summaries, every model's credits, order goals.</item>
/// </list>
/// </summary>
/// <remarks>
/// <para>Every derived row is a function of the set of facts of its component, and facts are only ever added. So the
/// order events arrive in, a replayed batch, a chat that arrives after its order, a link that merges two people: all
/// give the rows a full recomputation would give. Each row's version is the number of facts it was computed from,
/// which only grows; a ReplacingMergeTree keyed by the row's identity therefore keeps the most informed row whichever
/// was written last, and a replay writes rows equal to the ones it replaces.</para>
/// <para>State kept between batches is only a cache: the links already stored (so a logged-in visitor's every page view
/// does not reload their component) and the recent IP + user-agent pairs of <see cref="WeakLinker"/>. Both are capped
/// in bytes (<see cref="EngineSettings.KnownLinksMaxBytes"/>, <see cref="EngineSettings.WeakLinkMaxBytes"/>), estimated
/// from their strings, since one stranger's ids may be 256 characters each.</para>
/// </remarks>
public sealed class AttributionEngine
{
    // A HashSet slot (hash, next, the tuple's three references) besides the strings.
    private const int KnownLinkBytes = 48;

    private readonly SiteRulebook rules;
    private readonly WeakLinker weak;
    private readonly HashSet<(string Site, string A, string B)> knownLinks = [];
    private readonly MemoryBudget knownLinksMemory;

    public AttributionEngine(SiteRulebook rules, IMeterFactory? meterFactory = null)
    {
        this.rules = rules ?? throw new ArgumentNullException(nameof(rules));
        weak = new WeakLinker(rules.Settings, meterFactory);
        knownLinksMemory = new MemoryBudget(rules.Settings.KnownLinksMaxBytes, meterFactory, AttributionMeter, "insights.attribution.known_links");
    }

    /// <summary>The meter the engine's memory gauges report to: the attribution consumer's.</summary>
    internal static string AttributionMeter => InsightsTelemetry.NameFor("Attribution");

    /// <summary>Estimated bytes of the stored links remembered; at most <see cref="EngineSettings.KnownLinksMaxBytes"/>.</summary>
    public long KnownLinksBytes => knownLinksMemory.HeldBytes;

    /// <summary>Estimated bytes of the IP + user-agent pairs remembered; at most <see cref="EngineSettings.WeakLinkMaxBytes"/>.</summary>
    public long WeakPairsBytes => weak.BytesHeld;

    public SiteRulebook Rules => rules;

    /// <summary>Turns decoded events into facts and the nodes to load. Remembers IP + user-agent pairs for weak linking.</summary>
    public PreparedBatch Prepare(IReadOnlyList<PipelineEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var batch = new PreparedBatch { Events = events.Count };
        var batchLinks = new HashSet<(string, string, string)>();

        // Sightings first, anchors second: within a batch, a page view stamped after the chat it belongs to still links it.
        foreach (var e in events)
        {
            if (e.Ip is { Length: > 0 } ip && e.UserAgent is { Length: > 0 } ua && Node.IsUsable(e.AnonymousId)
                && rules.For(e.SiteId).WeakLinking)
            {
                weak.See(e.SiteId, ip, ua, Node.Anonymous(e.AnonymousId!), e.Timestamp.UtcDateTime);
            }
        }

        Span<string?> ids = new string?[3];
        foreach (var e in events)
        {
            var site = rules.For(e.SiteId);
            var at = e.Timestamp.UtcDateTime;
            ids[0] = Node.IsUsable(e.AnonymousId) ? Node.Anonymous(e.AnonymousId!) : null;
            ids[1] = Node.IsUsable(e.UserId) ? Node.User(e.UserId!) : null;
            var email = e.EmailHash?.Trim().ToLowerInvariant();
            ids[2] = Node.IsUsable(email) ? Node.Email(email!) : null;

            string? entity = null;
            string linkReason;
            switch (e.Type)
            {
                case EventTypes.ChatStarted or EventTypes.ChatMessage or EventTypes.ChatEnded or EventTypes.ChatRated:
                    if (!Node.IsUsable(e.ChatId))
                    {
                        batch.Skip(SkipReasons.MissingChatId);
                        continue;
                    }

                    entity = Node.Chat(e.ChatId!);
                    linkReason = LinkReasons.Chat;
                    batch.ChatEvents.Add(new ChatEventFact(e.SiteId, e.ChatId!, e.EventId, e.Type, at, e.AnonymousId ?? "", e.UserId ?? "",
                        email ?? "", Clip(e.AgentId) ?? "", Clip(e.Channel)?.ToLowerInvariant() ?? "", Clip(e.Source) ?? "", Clip(e.MessageAuthor)?.ToLowerInvariant() ?? "",
                        e.Rating));
                    if (e.Type == EventTypes.ChatStarted)
                    {
                        Complete(batch, site, GoalKind.ChatStarted, e, "c:" + e.ChatId, entity);
                    }

                    break;

                case EventTypes.Order or EventTypes.OrderRefunded or EventTypes.OrderCancelled:
                    if (!Node.IsUsable(e.OrderId))
                    {
                        batch.Skip(SkipReasons.MissingOrderId);
                        continue;
                    }

                    var amount = e.Amount ?? 0m;
                    if (!Money.IsStorable(amount) || (e.Type != EventTypes.OrderCancelled && e.Amount is null))
                    {
                        batch.Skip(SkipReasons.InvalidAmount);
                        continue;
                    }

                    var currency = (e.Currency ?? "").Trim().ToUpperInvariant();
                    if (currency.Length > 0 && !IsCurrencyCode(currency))
                    {
                        batch.Skip(SkipReasons.InvalidCurrency);
                        continue;
                    }

                    entity = Node.Order(e.OrderId!);
                    linkReason = LinkReasons.Order;
                    batch.OrderEvents.Add(new OrderEventFact(e.SiteId, e.OrderId!, e.EventId, e.Type, at, e.AnonymousId ?? "", e.UserId ?? "",
                        email ?? "", Money.Round(amount), currency, Clip(e.Coupon) ?? "", Clip(e.Source) ?? ""));
                    break;

                default:
                    linkReason = e.Type switch
                    {
                        EventTypes.Identify => LinkReasons.Identify,
                        EventTypes.Alias => LinkReasons.Alias,
                        _ => LinkReasons.Event,
                    };
                    MatchGoals(batch, site, e, ids[0] ?? ids[1] ?? ids[2]);
                    break;
            }

            // Chats and orders always reach attribution; other events only when they state a link not yet stored.
            if (entity is not null)
            {
                batch.Seed(e.SiteId, entity);
                foreach (var id in ids)
                {
                    if (id is not null)
                    {
                        batch.Seed(e.SiteId, id);
                        AddLink(batch, batchLinks, new LinkFact(e.SiteId, id, entity, LinkStrength.Strong, linkReason, e.EventId, at));
                    }
                }

                if (site.WeakLinking && e.Type is EventTypes.ChatStarted or EventTypes.Order
                    && e.Ip is { Length: > 0 } ip && e.UserAgent is { Length: > 0 } ua
                    && weak.Match(e.SiteId, ip, ua, ids[0], at) is { } visitor)
                {
                    batch.Seed(e.SiteId, visitor);
                    AddLink(batch, batchLinks, new LinkFact(e.SiteId, visitor, entity, LinkStrength.Weak, LinkReasons.SameIpAndUserAgent, e.EventId, at));
                }
            }
            else
            {
                for (var i = 0; i < ids.Length; i++)
                {
                    for (var j = i + 1; j < ids.Length; j++)
                    {
                        if (ids[i] is { } a && ids[j] is { } b
                            && AddLink(batch, batchLinks, new LinkFact(e.SiteId, a, b, LinkStrength.Strong, linkReason, e.EventId, at)))
                        {
                            batch.Seed(e.SiteId, a);
                            batch.Seed(e.SiteId, b);
                        }
                    }
                }

                if (e.Type == EventTypes.Alias && ids[1] is { } user && Node.IsUsable(e.PreviousId))
                {
                    // Segment's alias says previousId was this user's earlier id: an anonymous id or an older user id,
                    // which the event does not tell apart. Both readings are linked; the one that names nobody links
                    // nothing else.
                    LinkAlias(batch, batchLinks, e, Node.Anonymous(e.PreviousId!), user, at);
                    LinkAlias(batch, batchLinks, e, Node.User(e.PreviousId!), user, at);
                }
            }
        }

        return batch;
    }

    /// <summary>
    /// Adds the batch's facts to <paramref name="facts"/> (the stored facts of the touched components) and recomputes
    /// those components. <paramref name="facts"/> is changed; the batch is not, so a retry may compute it again.
    /// </summary>
    public AttributionOutput Compute(PreparedBatch batch, FactSet facts)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(facts);
        var output = new AttributionOutput();
        output.Links.AddRange(batch.Links);
        output.ChatEvents.AddRange(batch.ChatEvents);
        output.OrderEvents.AddRange(batch.OrderEvents);
        output.GoalCompletions.AddRange(batch.GoalCompletions);
        foreach (var link in batch.Links)
        {
            facts.AddLink(link);
        }

        foreach (var e in batch.ChatEvents)
        {
            facts.AddChatEvent(e);
        }

        foreach (var e in batch.OrderEvents)
        {
            facts.AddOrderEvent(e);
        }

        foreach (var (site, seeds) in batch.Seeds)
        {
            if (facts.TryGetSite(site, out var siteFacts))
            {
                Recompute(siteFacts, rules.For(site), seeds, output);
            }
        }

        return output;
    }

    /// <summary>Called once the batch's output is stored: its links no longer need a load to be known.</summary>
    public void Commit(PreparedBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long incoming = 0;
        foreach (var link in batch.Links)
        {
            incoming += link.Strength == LinkStrength.Strong ? KnownLinkEstimate(link) : 0;
        }

        if (knownLinksMemory.HeldBytes + incoming > knownLinksMemory.CapBytes && knownLinks.Count > 0)
        {
            // A cache: forgetting costs a reload of a component, never a wrong number.
            knownLinksMemory.Evicted(knownLinksMemory.HeldBytes, EvictionReasons.Memory, knownLinks.Count);
            knownLinks.Clear();
            knownLinks.TrimExcess();
        }

        foreach (var link in batch.Links)
        {
            var bytes = KnownLinkEstimate(link);
            if (link.Strength == LinkStrength.Strong && knownLinksMemory.HeldBytes + bytes <= knownLinksMemory.CapBytes)
            {
                var n = link.Normalized();
                if (knownLinks.Add((n.Site, n.From, n.To)))
                {
                    knownLinksMemory.Add(bytes);
                }
            }
        }
    }

    private static void Recompute(SiteFacts facts, SiteRules rules, HashSet<string> seeds, AttributionOutput output)
    {
        var nodes = facts.Nodes().ToList();
        // Stored weak links stay in the graph when a site turns the fallback off: the switch stops new guesses. Dropping
        // old ones would split persons into rows of lower versions, which their earlier, merged rows would outlive.
        var links = facts.Links().ToList();
        var graph = new IdentityGraph(nodes, links, includeWeak: true);
        var strong = new IdentityGraph(nodes, links, includeWeak: false);
        var strongPersons = strong.Persons();
        var components = graph.ComponentsOf(seeds);
        var linkWeights = new Dictionary<int, ulong>();
        foreach (var link in links)
        {
            var root = graph.Root(link.From);
            if (components.ContainsKey(root))
            {
                linkWeights[root] = linkWeights.GetValueOrDefault(root) + (ulong)link.Strength;
            }
        }

        foreach (var (root, members) in components)
        {
            var person = IdentityGraph.PersonOf(members);
            var chats = new List<ChatSummary>();
            var orders = new List<OrderSummary>();
            var version = linkWeights.GetValueOrDefault(root);
            foreach (var node in members)
            {
                if (Node.IsChat(node) && facts.ChatEvents(Node.Value(node)) is { Count: > 0 } chatEvents)
                {
                    version += (ulong)chatEvents.Count;
                    chats.Add(ChatSummary.Fold(Node.Value(node), chatEvents));
                }
                else if (Node.IsOrder(node) && facts.OrderEvents(Node.Value(node)) is { Count: > 0 } orderEvents)
                {
                    version += (ulong)orderEvents.Count;
                    if (OrderSummary.Fold(Node.Value(node), orderEvents, rules) is { } order)
                    {
                        orders.Add(order);
                    }
                }
            }

            var identities = (uint)members.Count(Node.IsIdentity);
            foreach (var node in members)
            {
                output.Identities.Add(new IdentityRow(facts.Site, node, person, strongPersons[strong.Root(node)], identities, version));
            }

            foreach (var chat in chats)
            {
                output.Chats.Add(new ChatRow(facts.Site, person, chat, version));
            }

            foreach (var order in orders)
            {
                var inWindow = CreditCalculator.ChatsInWindow(order, chats, rules);
                output.Orders.Add(new OrderRow(facts.Site, person, order, rules.ReportingCurrency, (uint)inWindow.Count, version));
                var orderNode = Node.Order(order.OrderId);
                var byId = inWindow.ToDictionary(c => c.ChatId, StringComparer.Ordinal);
                foreach (var credit in CreditCalculator.Compute(order, inWindow, rules))
                {
                    var chat = byId[credit.ChatId];
                    var confidence = strong.Root(Node.Chat(chat.ChatId)) == strong.Root(orderNode) ? Confidence.High : Confidence.Low;
                    output.Credits.Add(new CreditRow(facts.Site, order.OrderId, credit.Model, credit.ChatId, credit.Share, credit.Amount,
                        order.Currency, credit.AmountReporting, rules.ReportingCurrency, order.PlacedAt, chat.StartedAt, chat.AgentId,
                        chat.Channel, person, confidence, version));
                }

                foreach (var goal in rules.Goals)
                {
                    if (goal.Kind == GoalKind.OrderPlaced)
                    {
                        output.GoalCompletions.Add(new GoalCompletionRow(facts.Site, goal.Id, orderNode, order.PlacedAt, orderNode,
                            order.AnonymousId, goal.Value ?? order.AmountReporting ?? 0, version));
                    }
                }
            }
        }
    }

    private static void MatchGoals(PreparedBatch batch, SiteRules site, PipelineEvent e, string? node)
    {
        foreach (var goal in site.Goals)
        {
            var matched = goal.Kind switch
            {
                GoalKind.Page => e.Type == EventTypes.Pageview && goal.MatchesPage(e.Url),
                GoalKind.Event => e.Type == EventTypes.Track && string.Equals(e.Name, goal.EventName, StringComparison.Ordinal),
                _ => false,
            };

            if (matched)
            {
                batch.GoalCompletions.Add(new GoalCompletionRow(e.SiteId, goal.Id, e.EventId, e.Timestamp.UtcDateTime, node ?? "",
                    e.AnonymousId ?? "", goal.Value ?? 0, 1));
            }
        }
    }

    private static void Complete(PreparedBatch batch, SiteRules site, GoalKind kind, PipelineEvent e, string key, string node)
    {
        foreach (var goal in site.Goals)
        {
            if (goal.Kind == kind)
            {
                batch.GoalCompletions.Add(new GoalCompletionRow(e.SiteId, goal.Id, key, e.Timestamp.UtcDateTime, node,
                    e.AnonymousId ?? "", goal.Value ?? 0, 1));
            }
        }
    }

    private void LinkAlias(PreparedBatch batch, HashSet<(string, string, string)> batchLinks, PipelineEvent e, string previous, string user, DateTime at)
    {
        if (previous != user
            && AddLink(batch, batchLinks, new LinkFact(e.SiteId, previous, user, LinkStrength.Strong, LinkReasons.Alias, e.EventId, at)))
        {
            batch.Seed(e.SiteId, previous);
            batch.Seed(e.SiteId, user);
        }
    }

    /// <summary>Adds a link the batch states unless it is already stored or already in the batch; true when added.</summary>
    private bool AddLink(PreparedBatch batch, HashSet<(string, string, string)> batchLinks, LinkFact link)
    {
        var n = link.Normalized();
        if ((link.Strength == LinkStrength.Strong && knownLinks.Contains((n.Site, n.From, n.To))) || !batchLinks.Add((n.Site, n.From, n.To)))
        {
            return false;
        }

        batch.Links.Add(n);
        return true;
    }

    private static long KnownLinkEstimate(LinkFact link) =>
        KnownLinkBytes + MemoryBudget.StringBytes(link.Site) + MemoryBudget.StringBytes(link.From) + MemoryBudget.StringBytes(link.To);

    private static bool IsCurrencyCode(string code) => code.Length == 3 && code.All(char.IsAsciiLetterUpper);

    // Labels (agent, channel, coupon) longer than this are cut: they are shown and grouped by, never joined on.
    private static string? Clip(string? value) => value is { Length: > 128 } ? value[..128] : value;
}
