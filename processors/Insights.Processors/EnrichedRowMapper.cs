using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Insights.Contracts;
using Insights.Enrichment;
using Insights.Processors.Sessions;

namespace Insights.Processors;

/// <summary>
/// The <c>events</c> row as the processors insert it: <see cref="EventRowMapper"/>'s columns with the IP replaced by
/// the one the site's privacy mode allows, followed by what enrichment and sessionization added (migration 0003).
/// </summary>
public static class EnrichedRowMapper
{
    private static readonly (string Name, string Type)[] Added =
    [
        ("bot_reason", "LowCardinality(String)"),
        ("bot_name", "String"),
        ("session_id", "String"),
        ("country", "LowCardinality(String)"),
        ("region", "String"),
        ("city", "String"),
        ("browser", "LowCardinality(String)"),
        ("browser_version", "LowCardinality(String)"),
        ("os", "LowCardinality(String)"),
        ("os_version", "LowCardinality(String)"),
        ("device_type", "LowCardinality(String)"),
        ("network_kind", "LowCardinality(String)"),
        ("asn", "UInt32"),
        ("company_id", "String"),
        ("company_name", "String"),
        ("company_domain", "String"),
        ("company_source", "LowCardinality(String)"),
        ("company_confidence", "Float32"),
    ];

    public static readonly string[] Columns = [.. EventRowMapper.Columns, .. Added.Select(c => c.Name)];

    public static readonly IReadOnlyDictionary<string, string> ColumnTypes =
        EventRowMapper.ColumnTypes.Concat(Added.Select(c => KeyValuePair.Create(c.Name, c.Type))).ToDictionary(StringComparer.Ordinal);

    internal static readonly int IpColumn = Array.IndexOf(EventRowMapper.Columns, "ip");
    internal static readonly int PathColumn = Array.IndexOf(EventRowMapper.Columns, "path");
    internal static readonly int TimestampColumn = Array.IndexOf(EventRowMapper.Columns, "timestamp");

    // Browser majors as text without a string per event.
    private static readonly string[] Majors = [.. Enumerable.Range(0, 256).Select(i => i.ToString(CultureInfo.InvariantCulture))];

    /// <summary>
    /// The full row of an event: its <paramref name="baseRow"/> (from <see cref="EventRowMapper.ToRow(PipelineEvent)"/>)
    /// with the IP replaced by <see cref="EnrichedEvent.Ip"/> (never the event's own: only that one has the privacy mode
    /// applied), then the enrichment. A base row already <see cref="Columns"/> wide (as the processors map events) is
    /// filled in place and returned; a narrower one is copied. Filling again gives the same row: nothing here reads the
    /// columns it writes. <paramref name="ipv6"/> caches the IPv6 form of the enrichment's shared addresses for a batch.
    /// </summary>
    public static object[] ToRow(object[] baseRow, in EnrichedEvent enriched, in VisitAttributes visit, string? sessionId, Dictionary<IPAddress, IPAddress> ipv6)
    {
        ArgumentNullException.ThrowIfNull(baseRow);
        ArgumentNullException.ThrowIfNull(ipv6);
        var row = baseRow;
        if (baseRow.Length != Columns.Length)
        {
            row = new object[Columns.Length];
            Array.Copy(baseRow, row, EventRowMapper.Columns.Length);
        }

        row[IpColumn] = AsIpv6(enriched.Ip, ipv6)!;

        var device = enriched.Device ?? DeviceInfo.Unknown;
        var network = enriched.Company;
        var company = visit.CompanyId.Length > 0 ? network : null;
        var i = EventRowMapper.Columns.Length;
        row[i++] = enriched.DropReason ?? "";
        row[i++] = enriched.BotName ?? "";
        row[i++] = sessionId ?? "";
        row[i++] = visit.Country;
        row[i++] = visit.Region;
        row[i++] = visit.City;
        row[i++] = device.Browser;
        row[i++] = device.BrowserMajor is { } major ? (major is >= 0 and < 256 ? Majors[major] : major.ToString(CultureInfo.InvariantCulture)) : "";
        row[i++] = device.Os;
        row[i++] = device.OsVersion ?? "";
        row[i++] = device.Type;
        row[i++] = network?.Kind ?? "";
        row[i++] = network?.Asn is { } asn and >= 0 and <= uint.MaxValue ? (uint)asn : 0u;
        row[i++] = visit.CompanyId;
        row[i++] = company?.Name ?? "";
        row[i++] = company?.Domain ?? "";
        row[i++] = company?.Source ?? "";
        row[i] = company?.Confidence ?? 0f;
        return row;
    }

    private static IPAddress? AsIpv6(IPAddress? address, Dictionary<IPAddress, IPAddress> cache)
    {
        if (address is null || address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address;
        }

        if (!cache.TryGetValue(address, out var mapped))
        {
            cache[address] = mapped = address.MapToIPv6();
        }

        return mapped;
    }
}
