using System.ComponentModel.DataAnnotations;

namespace Insights.Processors.Sessions;

/// <summary>How visits are cut and how much of them the processor keeps in memory (section <c>Sessions</c>).</summary>
public sealed class SessionizerOptions
{
    public const string SectionName = "Sessions";

    /// <summary>A gap longer than this between a visitor's events starts a new session (Plausible, GA: 30 minutes).</summary>
    [Range(1, 1_440)]
    public int InactivityMinutes { get; set; } = 30;

    /// <summary>
    /// Bytes of visitor state kept in memory (estimated: each visitor's ids, latest session and its strings, a record of
    /// its recent events, fixed overhead; a visitor of one page view is counted at about 1.6 KB, one of 40 at 2.3 KB,
    /// more with long ids and URLs).
    /// More saves a ClickHouse look-up when a visitor comes back after a pause; over it, visitors idle for longer than
    /// the inactivity gap go first, then the least recently seen, and are read back from ClickHouse when they return.
    /// </summary>
    [Range(typeof(long), "65536", "68719476736")]
    public long MaxMemoryBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// Distinct pages listed per session (the company timeline shows them; lead scoring matches them).
    /// </summary>
    [Range(1, 1_000)]
    public int MaxPagesPerSession { get; set; } = 50;

    /// <summary>
    /// How far ahead of its received time an event's timestamp may be: ingest's Ingest:MaxFutureSkew (1 hour). A new
    /// visitor is looked up in ClickHouse until the processor has owned its partition for this plus the inactivity gap;
    /// shorter skips look-ups sooner, and too short could split a session whose clock ran ahead.
    /// </summary>
    [Range(0, 10_080)]
    public int MaxClockSkewMinutes { get; set; } = 60;

    public TimeSpan Inactivity => TimeSpan.FromMinutes(InactivityMinutes);
}
