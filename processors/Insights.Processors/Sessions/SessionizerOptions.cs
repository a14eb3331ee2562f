using System.ComponentModel.DataAnnotations;

namespace Insights.Processors.Sessions;

/// <summary>How visits are cut and how much of them the processor keeps in memory (section <c>Sessions</c>).</summary>
public sealed class SessionizerOptions
{
    public const string SectionName = "Sessions";

    /// <summary>A gap longer than this between a visitor's events starts a new session (Plausible, GA: 30 minutes).</summary>
    [Range(1, 1_440)]
    public int InactivityMinutes { get; set; } = 30;

    // Visitors whose open session is kept in memory. More saves a ClickHouse look-up when a visitor comes back
    // after a pause; each costs about 1 KB. Visitors idle for longer than the inactivity gap are dropped first.
    [Range(1_000, 10_000_000)]
    public int MaxVisitorsInMemory { get; set; } = 200_000;

    // Visitor ids per look-up query (they travel as one URL parameter; ClickHouse accepts 1 MiB of URL).
    [Range(1, 20_000)]
    public int LookupChunkSize { get; set; } = 2_000;

    // Distinct pages listed per session (the company timeline shows them; lead scoring matches them).
    [Range(1, 1_000)]
    public int MaxPagesPerSession { get; set; } = 50;

    // How far ahead of its received time an event's timestamp may be: ingest's Ingest:MaxFutureSkew (1 hour). A new
    // visitor is looked up in ClickHouse until the processor has owned its partition for this plus the inactivity gap;
    // shorter skips look-ups sooner, and too short could split a session whose clock ran ahead.
    [Range(0, 10_080)]
    public int MaxClockSkewMinutes { get; set; } = 60;

    public TimeSpan Inactivity => TimeSpan.FromMinutes(InactivityMinutes);
}
