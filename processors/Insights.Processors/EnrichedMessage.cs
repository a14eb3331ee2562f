using Insights.Contracts;
using Insights.Enrichment;

namespace Insights.Processors;

/// <summary>
/// The <c>insights.enriched</c> value of an event: the event as consumed (the <see cref="EventCodec"/> envelope live
/// presence reads), carrying no more of the visitor than the site's IP privacy mode lets storage keep.
/// </summary>
/// <remarks>
/// <para>The IP is the one enrichment stored (<see cref="EnrichedEvent.IpText"/>): full, truncated (IPv4 /24, IPv6 /48)
/// or none. The raw user agent goes out only for sites that keep full IPs: a full user-agent string (exact browser and
/// OS builds) next to a /24 network singles a visitor out again, which is what truncating was for, and the topic is a
/// broadcast any presence consumer reads, not the access-controlled store. What live presence shows of a device
/// (browser, OS, device type) is parsed and stored on the event's row.</para>
/// <para>A site on Full gets the consumed bytes as they are: nothing to take out, nothing to re-encode.</para>
/// </remarks>
public static class EnrichedMessage
{
    public static byte[] Encode(PipelineEvent e, in EnrichedEvent enriched, byte[]? consumed)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (enriched.IpStorage == IpStorageMode.Full && consumed is not null)
        {
            return consumed;
        }

        var full = enriched.IpStorage == IpStorageMode.Full;
        return EventCodec.Encode(e with { Ip = enriched.IpText, UserAgent = full ? e.UserAgent : null });
    }
}
