using Insights.Contracts;

namespace Insights.Ingest.Webhooks;

/// <summary>Who an order belongs to, as a shop's order says: the tracker's visitor id the glue put on it, the shop's
/// customer id, the e-mail hash, and the device the order was placed from.</summary>
internal sealed record OrderPerson(string? VisitorId, string? CustomerId, string? EmailHash, string? Ip, string? UserAgent)
{
    /// <summary>The person on an event about the order; the device only on the order itself (a cancellation or
    /// refund is done later, by someone else, from somewhere else).</summary>
    public PipelineEvent On(PipelineEvent e, bool withDevice) => withDevice
        ? e with { AnonymousId = VisitorId, UserId = CustomerId, EmailHash = EmailHash, Ip = Ip, UserAgent = UserAgent }
        : e with { AnonymousId = VisitorId, UserId = CustomerId, EmailHash = EmailHash };
}
