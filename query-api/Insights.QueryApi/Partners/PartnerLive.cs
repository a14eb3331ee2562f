using System.ComponentModel;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Insights.ControlPlane.Model;
using Insights.QueryApi.Accounts;
using Insights.QueryApi.Live;
using Insights.QueryApi.Pipeline;
using Mediator;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Partners;

/// <summary>Who is on the partner's client sites now (those the person may see), filtered; companies only by default.</summary>
public sealed record PartnerLiveQuery(string Partner, PresentedKey Key, string? Sites, string? Companies, string? MinScore, string? Country,
    string? Limit = null)
    : TenantRequest<PartnerLiveQuery>(Key), IQuery<QueryOutcome<PartnerLiveSnapshot>>
{
    public override Target Target => new(ScopeKind.Partner, Partner);

    public override Permission Required => Permission.ListClients;
}

/// <summary>The partner's client sites' changes as one stream, resumed after <see cref="LastEventId"/> when it still can be.</summary>
public sealed record PartnerLiveStreamQuery(string Partner, PresentedKey Key, string? Sites, string? LastEventId)
    : TenantRequest<PartnerLiveStreamQuery>(Key), IQuery<QueryOutcome<LiveFeed>>
{
    public override Target Target => new(ScopeKind.Partner, Partner);

    public override Permission Required => Permission.ListClients;
}

/// <summary>A visitor on a client site, with the site and the client organisation it belongs to.</summary>
public sealed record PartnerLiveVisitor(
    [property: Description("Site id.")] string Site,
    [property: Description("The client organisation's id.")] Guid Organisation,
    [property: Description("The client organisation's name.")] string OrganisationName,
    [property: Description("The visitor, as the site's own live view shows them.")] LiveVisitor Visitor);

/// <summary>Who is on the partner's client sites now.</summary>
public sealed record PartnerLiveSnapshot(
    [property: Description("Partner id.")] Guid Partner,
    [property: Description("The stream position this snapshot is current to (per site): resume the partner stream from it with Last-Event-ID.")] string EventId,
    [property: Description("The client sites covered.")] IReadOnlyList<ClientSite> Sites,
    [property: Description("Visitors on those sites (before filters).")] int Total,
    [property: Description("Visitors matching the filters, all of them; 'visitors' lists the first 'limit'.")] int Matching,
    [property: Description("Visitors matching the filters, most recently seen first, at most 'limit'.")] IReadOnlyList<PartnerLiveVisitor> Visitors,
    [property: Description("Credit to show with location and company data.")] string Attribution);

public sealed class PartnerLiveHandlers(PresenceBoard board, PartnerDirectory directory, IOptions<LiveOptions> live,
    IOptions<PartnerRollupOptions> partners, TimeProvider time)
    : IQueryHandler<PartnerLiveQuery, QueryOutcome<PartnerLiveSnapshot>>, IQueryHandler<PartnerLiveStreamQuery, QueryOutcome<LiveFeed>>
{
    public async ValueTask<QueryOutcome<PartnerLiveSnapshot>> Handle(PartnerLiveQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (LiveQueryHandlers.Unavailable(live.Value, board) is { } unavailable)
        {
            return unavailable;
        }

        var scope = await directory.ScopeAsync(query.Granted, cancellationToken);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var sites = PartnerParameters.Sites(scope, query.Sites, partners.Value.MaxSites, errors, out var notFound);
        if (notFound is not null)
        {
            return notFound;
        }

        // The point of the partner view is corporate visitors: companies only unless asked otherwise.
        var filter = LiveFilter.Parse(query.Companies, query.MinScore, null, query.Country, companiesByDefault: true, errors);
        var limit = LiveFilter.Limit(query.Limit, errors);
        if (errors.Count > 0)
        {
            return QueryProblem.Invalid(errors);
        }

        return new PartnerFeed(board, scope.Partner, sites, null).Now(time.GetUtcNow(), filter, limit);
    }

    public async ValueTask<QueryOutcome<LiveFeed>> Handle(PartnerLiveStreamQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (LiveQueryHandlers.Unavailable(live.Value, board) is { } unavailable)
        {
            return unavailable;
        }

        var scope = await directory.ScopeAsync(query.Granted, cancellationToken);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var sites = PartnerParameters.Sites(scope, query.Sites, partners.Value.MaxSites, errors, out var notFound);
        if (notFound is not null)
        {
            return notFound;
        }

        if (errors.Count > 0)
        {
            return QueryProblem.Invalid(errors);
        }

        return new PartnerFeed(board, scope.Partner, sites, query.LastEventId);
    }
}

/// <summary>
/// Several client sites' streams merged into one. An event id encodes every site's position:
/// <c>{instance}.{sites}.{p1}.{p2}…</c> — the instance's first change id, a hash of the covered site ids, and per site
/// (in site-id order) how far it was read. An id from another instance, for another set of sites, or beyond a site's
/// replay ring cannot be resumed: the stream starts with a <c>reset</c> carrying a fresh snapshot instead.
/// </summary>
public sealed class PartnerFeed : LiveFeed
{
    private readonly PresenceBoard board;
    private readonly Guid partner;
    private readonly IReadOnlyList<ClientSite> sites;
    private readonly SitePresence[] presences;
    private readonly byte[][] prefixes;
    private readonly string sitesHash;
    private readonly long[] cursors;

    public PartnerFeed(PresenceBoard board, Guid partner, IReadOnlyList<ClientSite> sites, string? lastEventId)
    {
        ArgumentNullException.ThrowIfNull(board);
        ArgumentNullException.ThrowIfNull(sites);
        this.board = board;
        this.partner = partner;
        this.sites = sites;
        presences = [.. sites.Select(s => board.Site(s.Id))];
        prefixes = [.. sites.Select(Prefix)];
        sitesHash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', sites.Select(s => s.Id)))), 0, 4);
        cursors = new long[sites.Count];
        // An id given but not usable (another instance, other sites, malformed) is treated as too old: a reset, not an error.
        Resumed = !string.IsNullOrEmpty(lastEventId);
        if (Resumed && !TryResume(lastEventId!))
        {
            Array.Fill(cursors, -1);
        }
    }

    public override bool Resumed { get; }

    public override IDisposable Follow()
    {
        var following = presences.Select(p => p.Follow()).ToArray();
        return new Following(following);
    }

    private sealed class Following(IDisposable[] sites) : IDisposable
    {
        public void Dispose()
        {
            foreach (var site in sites)
            {
                site.Dispose();
            }
        }
    }

    /// <summary>
    /// The <paramref name="limit"/> most recently seen visitors matching <paramref name="filter"/> across the covered
    /// sites, with the counts of everyone; the position moves to the snapshot. Each site lists at most the limit, and
    /// the most recent of those lists are the most recent of all.
    /// </summary>
    public PartnerLiveSnapshot Now(DateTimeOffset now, LiveFilter? filter, int limit = int.MaxValue)
    {
        var listed = new List<PartnerLiveVisitor>();
        var (present, matching) = (0, 0);
        for (var i = 0; i < presences.Length; i++)
        {
            // Each site's visitors and position are read together, so resuming from the snapshot misses nothing.
            var selection = presences[i].Select(now, filter, limit);
            cursors[i] = selection.EventId;
            (present, matching) = (present + selection.Present, matching + selection.Matching);
            listed.AddRange(selection.Visitors.Select(v => new PartnerLiveVisitor(sites[i].Id, sites[i].Organisation, sites[i].OrganisationName, v)));
        }

        List<PartnerLiveVisitor> shown = [.. listed.OrderByDescending(v => v.Visitor.LastSeen).Take(limit)];
        return new PartnerLiveSnapshot(partner, Position(), sites, present, matching, shown, LiveQueryHandlers.Attribution);
    }

    public override LiveFrame Snapshot(string name, DateTimeOffset now)
    {
        var snapshot = Now(now, null);
        return new LiveFrame(snapshot.EventId, name, JsonSerializer.SerializeToUtf8Bytes(snapshot, SitePresence.Json));
    }

    public override (IReadOnlyList<LiveFrame>? Changes, Task Next) Read(int max)
    {
        var frames = new List<LiveFrame>();
        var next = new Task[presences.Length];
        for (var i = 0; i < presences.Length; i++)
        {
            var (changes, signal) = presences[i].Read(cursors[i], Math.Max(0, max - frames.Count));
            next[i] = signal;
            if (changes is null || cursors[i] < 0)
            {
                return (null, signal);
            }

            foreach (var change in changes)
            {
                cursors[i] = change.Id;
                frames.Add(new LiveFrame(Position(), change.Event, Wrap(prefixes[i], change.Data)));
            }
        }

        return (frames, next.Length == 0 ? Task.Delay(Timeout.Infinite) : Task.WhenAny(next));
    }

    /// <summary>The event's data as <c>{"site":…,"organisation":…,"organisationName":…,"visitor":{…}}</c>: the site's own payload, named.</summary>
    private static byte[] Wrap(byte[] prefix, byte[] data)
    {
        var wrapped = new byte[prefix.Length + data.Length + 1];
        prefix.CopyTo(wrapped, 0);
        data.CopyTo(wrapped, prefix.Length);
        wrapped[^1] = (byte)'}';
        return wrapped;
    }

    private static byte[] Prefix(ClientSite site)
    {
        var header = JsonSerializer.Serialize(new { site = site.Id, organisation = site.Organisation, organisationName = site.OrganisationName }, SitePresence.Json);
        return Encoding.UTF8.GetBytes(string.Concat(header.AsSpan(0, header.Length - 1), ",\"visitor\":"));
    }

    private string Position()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{board.FirstId}.{sitesHash}");
        foreach (var cursor in cursors)
        {
            text.Append(CultureInfo.InvariantCulture, $".{cursor - board.FirstId + 1}");
        }

        return text.ToString();
    }

    /// <summary>Takes the positions from a Last-Event-ID of this instance and these sites; false otherwise.</summary>
    private bool TryResume(string id)
    {
        if (id.Length > 64 * (cursors.Length + 2))
        {
            return false;
        }

        var parts = id.Split('.');
        if (parts.Length != cursors.Length + 2 || parts[0] != board.FirstId.ToString(CultureInfo.InvariantCulture) || parts[1] != sitesHash)
        {
            return false;
        }

        for (var i = 0; i < cursors.Length; i++)
        {
            if (!long.TryParse(parts[i + 2], NumberStyles.None, CultureInfo.InvariantCulture, out var read) || read > long.MaxValue - board.FirstId)
            {
                return false;
            }

            cursors[i] = board.FirstId - 1 + read;
        }

        return true;
    }
}
