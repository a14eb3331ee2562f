using Insights.Contracts;
using Insights.Enrichment;

namespace Insights.Processors.Sessions;

/// <summary>One visitor event of a batch, as the sessionizer needs it.</summary>
/// <param name="Index">The event's position in the batch (the caller's index; echoed in <see cref="FoldResult.SessionIds"/>).</param>
/// <param name="Path">The page's path (as stored in <c>events.path</c>).</param>
/// <param name="Attributes">What enrichment learned (geo, device, company), applied to the session from its entry page view.</param>
/// <param name="Replay">An operator's replay of an earlier message (<see cref="EventCodec.ReplayHeader"/>).</param>
public readonly record struct SessionInput(int Index, int Partition, long Offset, PipelineEvent Event, string Path, VisitAttributes Attributes, bool Replay = false);

/// <summary>
/// Who the visitor is, as the session shows it: where, on what, from which network and company. Points at the
/// enrichment's cached objects, so building one per event allocates nothing.
/// </summary>
/// <param name="CompanyId">The company's id (<see cref="CompanyIds"/>) when <paramref name="Network"/> is a business, else empty.</param>
public readonly record struct VisitAttributes(GeoLocation? Geo, DeviceInfo? Device, CompanyMatch? Network, string CompanyId)
{
    // default(VisitAttributes) (an event enrichment knew nothing about) reads as empty, not null.
    public string CompanyId { get => field ?? ""; init => field = value; } = CompanyId;

    public string Country => Geo?.CountryCode ?? "";

    public string Region => Geo?.Region ?? "";

    public string City => Geo?.City ?? "";

    public string Browser => Device?.Browser ?? "";

    public string Os => Device?.Os ?? "";

    public string DeviceType => Device?.Type ?? "";

    public string NetworkKind => Network?.Kind ?? "";

    public string CompanyName => CompanyId.Length > 0 ? Network?.Name ?? "" : "";

    public string CompanyDomain => CompanyId.Length > 0 ? Network?.Domain ?? "" : "";

    /// <summary>The attributes of an enriched event: the company only when it is a business.</summary>
    public static VisitAttributes Of(in EnrichedEvent enriched) =>
        new(enriched.Geo, enriched.Device, enriched.Company, enriched.Business is { } company ? CompanyIds.Of(company) : "");
}

/// <summary>A visitor whose sessions must be read from ClickHouse before the batch can be folded.</summary>
public readonly record struct LookupNeed(int Partition, VisitorKey Visitor, DateTime Since);

/// <summary>What folding a batch produced: per input its session id (null: a replay, already stored), the sessions
/// to write, and the visitors' new states, which become the memory only once everything was written.</summary>
public sealed class FoldResult
{
    private readonly Dictionary<int, DateTime>? firstTimes;

    internal FoldResult(string?[] sessionIds, List<Session> changed, Dictionary<(int, VisitorKey), VisitorState> states, int replayed, int started,
        Dictionary<int, DateTime>? firstTimes = null)
    {
        this.firstTimes = firstTimes;
        SessionIds = sessionIds;
        Changed = changed;
        States = states;
        Replayed = replayed;
        Started = started;
    }

    /// <summary>Indexed like the inputs' <see cref="SessionInput.Index"/>: the session of each event, or null for a replayed
    /// event (its row, with its session id, is already in ClickHouse).</summary>
    public string?[] SessionIds { get; }

    /// <summary>Sessions an event of the batch changed, in their new state.</summary>
    public IReadOnlyList<Session> Changed { get; }

    /// <summary>Events skipped because ClickHouse already holds them (a replay after a crash or rebalance).</summary>
    public int Replayed { get; }

    /// <summary>Sessions this batch opened.</summary>
    public int Started { get; }

    /// <summary>
    /// For an input (by <see cref="SessionInput.Index"/>) that repeats an event folded before with another time: the time
    /// the first delivery was stored with, which its row must carry too (its hour is in <c>events</c>' sorting key).
    /// </summary>
    public DateTime? FirstTimeOf(int index) => firstTimes is not null && firstTimes.TryGetValue(index, out var at) ? at : null;

    internal Dictionary<(int Partition, VisitorKey Visitor), VisitorState> States { get; }
}
