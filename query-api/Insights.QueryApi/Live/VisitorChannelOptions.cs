using System.ComponentModel.DataAnnotations;

namespace Insights.QueryApi.Live;

/// <summary>
/// The visitors' invitation channel (section <c>VisitorChannel</c>): public input, so every connection is bounded. Its
/// heartbeat is <see cref="LiveOptions.HeartbeatSeconds"/>, the live stream's.
/// </summary>
public sealed class VisitorChannelOptions
{
    public const string Section = "VisitorChannel";

    /// <summary>Open connections from one client address. More lets a large office behind one NAT address keep every
    /// visitor reachable; fewer limits what one machine can hold open.</summary>
    [Range(1, 100_000)]
    public int MaxConnectionsPerAddress { get; set; } = 64;

    /// <summary>Open connections per site on this instance (one per visitor with a visible page). More serves a bigger
    /// site; each costs a socket and a few KB.</summary>
    [Range(1, 10_000_000)]
    public int MaxConnectionsPerSite { get; set; } = 20_000;

    /// <summary>A connection is closed after this long and the page reconnects: shorter sheds dead connections and
    /// rebalances instances sooner, longer costs fewer reconnects.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxConnectionTime { get; set; } = TimeSpan.FromMinutes(10);
}
