using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Insights.Contracts;

namespace Insights.QueryApi.Live;

/// <summary>Live presence and its stream (section <c>Live</c>): who is on each site now, from <c>insights.enriched</c>.</summary>
public sealed class LiveOptions
{
    public const string Section = "Live";

    /// <summary>Run presence in this instance. Off: the live endpoints answer 503 <c>live_disabled</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Kafka host:port list; empty uses <c>Kafka:BootstrapServers</c>, the cluster the rest of the system uses.</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>How long the broker may hold a fetch that finds nothing new, in ms; empty uses <c>Kafka:FetchWaitMaxMs</c>,
    /// else Kafka's default (500). Kafka answers as soon as a message arrives; the dev stack's broker holds an empty
    /// fetch the whole time, so there a lower value shows a visitor sooner (<c>scripts/run.sh</c> sets it).</summary>
    [Range(0, MaxFetchWaitMs)]
    public int? FetchWaitMaxMs { get; set; }

    /// <summary>The longest fetch wait taken, from either key.</summary>
    public const int MaxFetchWaitMs = 60_000;

    /// <summary>The system's fetch wait, which <see cref="FetchWaitMaxMs"/> falls back to.</summary>
    public const string KafkaFetchWaitKey = "Kafka:FetchWaitMaxMs";

    /// <summary>The fetch wait the presence consumer asks for: <see cref="FetchWaitMaxMs"/>, else the system's
    /// <see cref="KafkaFetchWaitKey"/>, else Kafka's default; null when the system's value is not a whole number within
    /// <see cref="FetchWaitMaxMs"/>'s range (start-up refuses that, naming the key).</summary>
    public int? FetchWait(IConfiguration configuration) =>
        FetchWaitMaxMs ?? (configuration[KafkaFetchWaitKey] is not { } value ? 500
            : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms <= MaxFetchWaitMs ? ms : null);

    /// <summary>The topic the processors publish live events to.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9._-]{1,249}$", ErrorMessage = "must be a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)")]
    public string Topic { get; set; } = Topics.Enriched;

    /// <summary>A visitor with no event for this long has left. Shorter empties the list sooner after people close the
    /// tab (the tracker reports hiding, not closing); longer keeps readers of a long page listed.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Memory presence may hold for visitors, in bytes (estimated). Past it the longest-unseen visitors are
    /// dropped (<c>visitor_left</c>, reason <c>evicted</c>): more holds bigger sites, at the cost of the process's memory.</summary>
    [Range(1024 * 1024, 64L * 1024 * 1024 * 1024)]
    public long MaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Changes per site kept for <c>Last-Event-ID</c> resumption. More lets a client reconnect after a longer
    /// gap without a reset, at ~0.5-1 KB each per busy site.</summary>
    [Range(16, 1_000_000)]
    public int ReplayEvents { get; set; } = 2_048;

    /// <summary>How long a site's changes are still kept after it was last read (a snapshot, a stream's read, a stream
    /// closing), so a client that reconnects with its Last-Event-ID within it resumes without a reset. While nobody reads a
    /// site, its changes are not kept at all and its visitors' visits are not looked up (unless its alert or invitation
    /// rules need them): an instance serving many sites pays for the ones people watch. Longer keeps unwatched sites'
    /// changes (and their cost per event) for longer.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ResumeWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A message on the topic larger than this is skipped and counted; bounds what one message can cost.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>Distinct pages remembered per visit (the visit's page list and lead-score input); more costs memory per visitor.</summary>
    [Range(1, 1_000)]
    public int MaxPagesPerVisit { get; set; } = 50;

    /// <summary>Seconds between SSE heartbeat comments: keeps proxies from closing an idle stream; shorter costs bytes.</summary>
    [Range(1, 300)]
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>Rebuild presence at start from ClickHouse (the events of the last <see cref="IdleTimeout"/>). Off: an
    /// instance starts empty and fills as visitors act.</summary>
    public bool RebuildOnStart { get; set; } = true;
}
