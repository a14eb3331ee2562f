using Insights.Contracts;

namespace Insights.Ingest.Parsing;

/// <summary>What ingest knows about a request apart from its body: who sent it, from where, and when.</summary>
/// <param name="SiteId">The site the key belongs to.</param>
/// <param name="KeyKind">A server key may speak for a visitor (<c>context.ip</c>, <c>context.userAgent</c>); a write key may not.</param>
/// <param name="ReceivedAt">The server clock when the request arrived; one value for the whole batch.</param>
/// <param name="ClientIp">The resolved client address (see <see cref="Network.ClientIpResolver"/>), or null.</param>
/// <param name="UserAgent">The request's User-Agent header, or null.</param>
/// <param name="ImpliedType">
/// The type a Segment single-call route names (<c>/v1/track</c>: track): events without a <c>type</c> get it, events with
/// another type are refused. Null on <c>/v1/events</c> and <c>/v1/batch</c>, where every event names its own.
/// </param>
public readonly record struct IngestRequestContext(
    string SiteId,
    KeyKind KeyKind,
    DateTimeOffset ReceivedAt,
    string? ClientIp,
    string? UserAgent,
    string? ImpliedType = null);
