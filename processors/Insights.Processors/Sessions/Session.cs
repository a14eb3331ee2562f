using System.Security.Cryptography;
using System.Text;
using Insights.ServiceDefaults;

namespace Insights.Processors.Sessions;

/// <summary>A visitor: a site and the first-party anonymous id (ordinal equality, no allocation).</summary>
public readonly record struct VisitorKey(string Site, string Visitor);

/// <summary>
/// One visit as the processor folds events into it; written whole as a <c>sessions</c> row (<see cref="ToRow"/>)
/// whenever an event changed it. Mutable, but only ever changed on a batch's private copy
/// (<see cref="Clone"/>): the copy in memory is the one ClickHouse has.
/// </summary>
public sealed class Session
{
    public required string Id { get; init; }

    public required string Site { get; init; }

    public required string Visitor { get; init; }

    /// <summary>Time of the event that opened it: never changes, so every version shares a monthly partition.</summary>
    public DateTime OpenedAt { get; init; }

    public DateTime StartedAt { get; set; }

    public DateTime EndedAt { get; set; }

    /// <summary>Time of the entry page view (the earliest page view folded so far).</summary>
    public DateTime EntryAt { get; set; }

    /// <summary>Time of the exit page view (the latest page view folded so far).</summary>
    public DateTime ExitAt { get; set; }

    public string UserId { get; set; } = "";

    public ulong EngagedMs { get; set; }

    public uint PageViews { get; set; }

    public uint Events { get; set; }

    /// <summary>Events a visitor did besides viewing pages and being engaged: custom events, identify, chats, orders.</summary>
    public uint Interactions { get; set; }

    public string EntryPage { get; set; } = "";

    public string ExitPage { get; set; } = "";

    public List<string> Pages { get; set; } = [];

    public string LandingReferrer { get; set; } = "";

    public string ReferrerHost { get; set; } = "";

    public string Channel { get; set; } = Channels.Direct;

    public string UtmSource { get; set; } = "";

    public string UtmMedium { get; set; } = "";

    public string UtmCampaign { get; set; } = "";

    public string UtmTerm { get; set; } = "";

    public string UtmContent { get; set; } = "";

    public string Country { get; set; } = "";

    public string Region { get; set; } = "";

    public string City { get; set; } = "";

    public string Browser { get; set; } = "";

    public string Os { get; set; } = "";

    public string DeviceType { get; set; } = "";

    public string NetworkKind { get; set; } = "";

    public string CompanyId { get; set; } = "";

    public string CompanyName { get; set; } = "";

    public string CompanyDomain { get; set; } = "";

    public int KafkaPartition { get; set; }

    /// <summary>The highest Kafka offset folded into this session.</summary>
    public long LastOffset { get; set; } = -1;

    public DateTime LastReceivedAt { get; set; }

    /// <summary>A single page view and nothing else a visitor did (engagement pings do not count).</summary>
    public bool Bounce => PageViews == 1 && Interactions == 0;

    public uint DurationSeconds => (uint)Math.Clamp((EndedAt - StartedAt).TotalSeconds, 0, uint.MaxValue);

    /// <summary>
    /// The session id: a hash of the site, the visitor and the id of the event that opened it. A replay of the same
    /// events opens the same sessions with the same ids, so their rows replace each other instead of adding up.
    /// </summary>
    public static string IdFor(string site, string visitor, string openingEventId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{site}\n{visitor}\n{openingEventId}"), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    /// <summary>Heap bytes of this session: the object, its pages list and every string it points at.</summary>
    public long EstimateBytes()
    {
        // Object header, ~30 references, the times and the counters.
        const int FixedBytes = 360;
        var bytes = FixedBytes + 32 + 8L * Pages.Capacity;
        foreach (var page in Pages)
        {
            bytes += MemoryBudget.StringBytes(page);
        }

        foreach (var text in (ReadOnlySpan<string>)[Id, Site, Visitor, UserId, EntryPage, ExitPage, LandingReferrer, ReferrerHost, Channel,
                     UtmSource, UtmMedium, UtmCampaign, UtmTerm, UtmContent, Country, Region, City, Browser, Os, DeviceType, NetworkKind,
                     CompanyId, CompanyName, CompanyDomain])
        {
            bytes += MemoryBudget.StringBytes(text);
        }

        return bytes;
    }

    public Session Clone()
    {
        var copy = (Session)MemberwiseClone();
        copy.Pages = [.. Pages];
        return copy;
    }

    /// <summary>The <c>sessions</c> columns in <see cref="Columns"/> order; <c>inserted_at</c> is left to its DEFAULT.</summary>
    public static readonly string[] Columns =
    [
        "session_id", "site_id", "anonymous_id", "user_id", "opened_at", "started_at", "ended_at", "entry_at", "exit_at",
        "duration", "engaged_ms",
        "page_views", "events", "interactions", "bounce", "entry_page", "exit_page", "pages", "landing_referrer", "referrer_host",
        "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "country", "region", "city",
        "browser", "os", "device_type", "network_kind", "company_id", "company_name", "company_domain",
        "kafka_partition", "last_offset", "last_received_at", "version",
    ];

    public static readonly IReadOnlyDictionary<string, string> ColumnTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["session_id"] = "String", ["site_id"] = "LowCardinality(String)", ["anonymous_id"] = "String", ["user_id"] = "String",
        ["opened_at"] = "DateTime64(3, 'UTC')", ["started_at"] = "DateTime64(3, 'UTC')", ["ended_at"] = "DateTime64(3, 'UTC')",
        ["entry_at"] = "DateTime64(3, 'UTC')", ["exit_at"] = "DateTime64(3, 'UTC')",
        ["duration"] = "UInt32", ["engaged_ms"] = "UInt64", ["page_views"] = "UInt32", ["events"] = "UInt32",
        ["interactions"] = "UInt32", ["bounce"] = "Bool", ["entry_page"] = "String", ["exit_page"] = "String",
        ["pages"] = "Array(String)", ["landing_referrer"] = "String", ["referrer_host"] = "String",
        ["channel"] = "LowCardinality(String)", ["utm_source"] = "String", ["utm_medium"] = "String", ["utm_campaign"] = "String",
        ["utm_term"] = "String", ["utm_content"] = "String", ["country"] = "LowCardinality(String)", ["region"] = "String",
        ["city"] = "String", ["browser"] = "LowCardinality(String)", ["os"] = "LowCardinality(String)",
        ["device_type"] = "LowCardinality(String)", ["network_kind"] = "LowCardinality(String)", ["company_id"] = "String",
        ["company_name"] = "String", ["company_domain"] = "String", ["kafka_partition"] = "Int32", ["last_offset"] = "Int64",
        ["last_received_at"] = "DateTime64(3, 'UTC')", ["version"] = "UInt64",
    };

    public object[] ToRow() =>
    [
        Id, Site, Visitor, UserId, OpenedAt, StartedAt, EndedAt, EntryAt, ExitAt, DurationSeconds, EngagedMs,
        PageViews, Events, Interactions, Bounce, EntryPage, ExitPage, Pages.ToArray(), LandingReferrer, ReferrerHost,
        Channel, UtmSource, UtmMedium, UtmCampaign, UtmTerm, UtmContent, Country, Region, City,
        Browser, Os, DeviceType, NetworkKind, CompanyId, CompanyName, CompanyDomain,
        KafkaPartition, LastOffset, LastReceivedAt, (ulong)Events,
    ];
}
