using System.Net;
using System.Text;
using Insights.Contracts;

namespace Insights.Processors;

/// <summary>A Kafka value turned into an <c>events</c> row, or the named reason it is a poison message.</summary>
public readonly record struct MappedEvent(PipelineEvent? Event, object[]? Row, string? Reason, string? Detail)
{
    public bool IsPoison => Row is null;
}

/// <summary>
/// The processors' hot path: decode a Kafka value (<see cref="EventCodec.Decode"/>) and lay it out as one
/// RowBinary row of the <c>events</c> table, in <see cref="Columns"/> order with <see cref="ColumnTypes"/>.
/// Pure and allocation-lean, so benchmarks call it directly. Every check that could make ClickHouse refuse a
/// whole batch happens here, per event, so one hostile message is dead-lettered instead of blocking a partition.
/// </summary>
public static class EventRowMapper
{
    /// <summary>The inserted columns; <c>inserted_at</c> is left to its DEFAULT (the ReplacingMergeTree version).</summary>
    public static readonly string[] Columns =
    [
        "event_id", "site_id", "type", "name", "timestamp", "received_at", "timestamp_clamped",
        "anonymous_id", "user_id", "ip", "user_agent", "url", "path", "referrer", "referrer_host", "title",
        "locale", "screen_width", "screen_height",
        "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "properties",
    ];

    /// <summary>Explicit types, so the driver never asks the server for the schema before an insert.</summary>
    public static readonly IReadOnlyDictionary<string, string> ColumnTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["event_id"] = "String",
        ["site_id"] = "LowCardinality(String)",
        ["type"] = "LowCardinality(String)",
        ["name"] = "String",
        ["timestamp"] = "DateTime64(3, 'UTC')",
        ["received_at"] = "DateTime64(3, 'UTC')",
        ["timestamp_clamped"] = "Bool",
        ["anonymous_id"] = "String",
        ["user_id"] = "String",
        ["ip"] = "Nullable(IPv6)",
        ["user_agent"] = "String",
        ["url"] = "String",
        ["path"] = "String",
        ["referrer"] = "String",
        ["referrer_host"] = "String",
        ["title"] = "String",
        ["locale"] = "LowCardinality(String)",
        ["screen_width"] = "UInt16",
        ["screen_height"] = "UInt16",
        ["utm_source"] = "String",
        ["utm_medium"] = "String",
        ["utm_campaign"] = "String",
        ["utm_term"] = "String",
        ["utm_content"] = "String",
        ["properties"] = "String",
    };

    // DateTime64(3) holds 1900..2299; ingest clamps client clocks, so anything outside this window came from a
    // producer that bypassed ingest and would otherwise fail the whole insert or scatter it over centuries of
    // monthly partitions.
    private static readonly DateTimeOffset Earliest = new(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Latest = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Decodes a Kafka value and maps it to a row; <paramref name="schemaHeader"/> is the <c>schema</c> header, if any.</summary>
    public static MappedEvent Map(ReadOnlySpan<byte> value, ReadOnlySpan<byte> schemaHeader = default) => Map(value, schemaHeader, Columns.Length);

    /// <summary>
    /// <see cref="Map(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> into a row of <paramref name="width"/> columns that
    /// begins with <see cref="Columns"/>. A wider row is the processors' <see cref="EnrichedRowMapper"/> row: the
    /// enrichment fills the rest, and the IP, in place (<see cref="ToRow(PipelineEvent, int)"/>).
    /// </summary>
    internal static MappedEvent Map(ReadOnlySpan<byte> value, ReadOnlySpan<byte> schemaHeader, int width)
    {
        if (!schemaHeader.IsEmpty && !schemaHeader.SequenceEqual(EventCodec.SchemaValue))
        {
            return Poison("unknown_version", $"schema header '{Encoding.UTF8.GetString(schemaHeader)}' is not {EventCodec.Schema}");
        }

        if (value.IsEmpty)
        {
            return Poison("undecodable", "the message has no value");
        }

        var decoded = EventCodec.Decode(value);
        if (decoded.Event is not { } e)
        {
            return Poison(decoded.Reason ?? "undecodable", decoded.Detail ?? "");
        }

        if (e.Timestamp < Earliest || e.Timestamp >= Latest || e.ReceivedAt < Earliest || e.ReceivedAt >= Latest)
        {
            return new MappedEvent(e, null, "schema_invalid", "timestamp or received_at is outside 1970..2200");
        }

        return new MappedEvent(e, ToRow(e, width), null, null);
    }

    /// <summary>One row in <see cref="Columns"/> order.</summary>
    public static object[] ToRow(PipelineEvent e) => ToRow(e, Columns.Length);

    /// <summary>
    /// A row of <paramref name="width"/> columns, the first ones in <see cref="Columns"/> order. In a wider row (the
    /// processors' enriched row) the IP column is left empty: the enrichment sets it, with the site's privacy mode
    /// applied, so parsing the event's own address here would only be thrown away.
    /// </summary>
    internal static object[] ToRow(PipelineEvent e, int width)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, Columns.Length);
        var row = new object[width];
        var i = 0;
        row[i++] = e.EventId;
        row[i++] = e.SiteId;
        row[i++] = e.Type;
        row[i++] = e.Name ?? "";
        row[i++] = e.Timestamp.UtcDateTime;
        row[i++] = e.ReceivedAt.UtcDateTime;
        row[i++] = e.TimestampClamped;
        row[i++] = e.AnonymousId ?? "";
        row[i++] = e.UserId ?? "";
        row[i++] = (width == Columns.Length ? ParseIp(e.Ip) : null)!;
        row[i++] = e.UserAgent ?? "";
        row[i++] = e.Url ?? "";
        row[i++] = PathOf(e.Url);
        row[i++] = e.Referrer ?? "";
        row[i++] = ReferrerHostOf(e.Referrer);
        row[i++] = e.Title ?? "";
        row[i++] = e.Locale ?? "";
        row[i++] = ToUInt16(e.ScreenWidth);
        row[i++] = ToUInt16(e.ScreenHeight);
        row[i++] = e.UtmSource ?? "";
        row[i++] = e.UtmMedium ?? "";
        row[i++] = e.UtmCampaign ?? "";
        row[i++] = e.UtmTerm ?? "";
        row[i++] = e.UtmContent ?? "";
        row[i] = e.Properties is { } properties ? properties.GetRawText() : "";
        return row;
    }

    /// <summary>The path of a page URL without query or fragment: <c>https://a.com/p?q=1</c> → <c>/p</c>;
    /// <c>https://a.com</c> → <c>/</c>. A URL without a scheme is taken as a path.</summary>
    public static string PathOf(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return "";
        }

        var span = url.AsSpan();
        var start = 0;
        var scheme = span.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            var authorityStart = scheme + 3;
            var slash = span[authorityStart..].IndexOfAny('/', '?', '#');
            if (slash < 0 || span[authorityStart + slash] != '/')
            {
                return "/";
            }

            start = authorityStart + slash;
        }

        var end = span[start..].IndexOfAny('?', '#');
        var path = end < 0 ? span[start..] : span.Slice(start, end);
        return start == 0 && path.Length == url.Length ? url : path.ToString();
    }

    /// <summary>The referrer's host, lower-case, without port, credentials or a leading <c>www.</c> (so
    /// <c>www.google.com</c> and <c>google.com</c> count as one source); empty when there is no absolute referrer.</summary>
    public static string ReferrerHostOf(string? referrer)
    {
        if (string.IsNullOrEmpty(referrer))
        {
            return "";
        }

        var span = referrer.AsSpan();
        var scheme = span.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0)
        {
            return "";
        }

        var authority = span[(scheme + 3)..];
        var end = authority.IndexOfAny('/', '?', '#');
        if (end >= 0)
        {
            authority = authority[..end];
        }

        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            authority = authority[(at + 1)..];
        }

        ReadOnlySpan<char> host;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            host = close < 0 ? authority : authority[..(close + 1)];
        }
        else
        {
            var colon = authority.IndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
        }

        host = host.TrimEnd('.');
        if (host.StartsWith("www.", StringComparison.OrdinalIgnoreCase))
        {
            host = host[4..];
        }

        return host.ToString().ToLowerInvariant();
    }

    /// <summary>The client IP as IPv6 (IPv4 as v4-mapped, <c>::ffff:a.b.c.d</c>); null when absent or not an address.</summary>
    public static IPAddress? ParseIp(string? ip)
    {
        // IPAddress.TryParse also takes legacy shorthands ("1" is 0.0.0.1, "0x7f.1" is 127.0.0.1) that no
        // stamped address ever looks like; only dotted quads and colon forms are addresses here.
        if (string.IsNullOrEmpty(ip) || (!ip.Contains(':', StringComparison.Ordinal) && !IsDottedQuad(ip))
            || !IPAddress.TryParse(ip, out var address))
        {
            return null;
        }

        return address.IsIPv4MappedToIPv6 || address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? WithoutScope(address)
            : address.MapToIPv6();
    }

    // A zone id (fe80::1%eth0) is local to the sender's host; ClickHouse's IPv6 has no place for it.
    private static IPAddress WithoutScope(IPAddress address) =>
        address.ScopeId == 0 ? address : new IPAddress(address.GetAddressBytes());

    private static bool IsDottedQuad(string ip) =>
        ip.AsSpan().Count('.') == 3 && !ip.AsSpan().ContainsAnyExcept("0123456789.");

    private static ushort ToUInt16(int? value) => (ushort)Math.Clamp(value ?? 0, 0, ushort.MaxValue);

    private static MappedEvent Poison(string reason, string detail) => new(null, null, reason, detail);
}
