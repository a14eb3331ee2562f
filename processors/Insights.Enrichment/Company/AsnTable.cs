using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Insights.Enrichment.Net;

namespace Insights.Enrichment.Company;

/// <summary>
/// IP range → autonomous system, from the <c>@ip-location-db/asn</c> CSV files (<c>start,end,asn,org</c>; CC BY 4.0,
/// RouteViews, NRO and DB-IP data). Each AS is classified once at load time, so a lookup is a binary search that
/// returns a finished <see cref="CompanyMatch"/>.
/// </summary>
internal sealed class AsnTable
{
    private readonly RangeTable<uint, CompanyMatch> v4;
    private readonly RangeTable<UInt128, CompanyMatch> v6;

    private AsnTable(RangeTable<uint, CompanyMatch> v4, RangeTable<UInt128, CompanyMatch> v6, AsnLoadReport report)
    {
        this.v4 = v4;
        this.v6 = v6;
        Report = report;
    }

    public AsnLoadReport Report { get; }

    public CompanyMatch? Find(in IpKey key) => key.IsV4 ? v4.Find(key.V4) : v6.Find(key.V6);

    /// <summary>
    /// Reads the files. Rows may give addresses as text (<c>1.0.0.0</c>, <c>2001:200::</c>) or as numbers
    /// (the <c>-num.csv</c> files; the file's family decides IPv4 or IPv6). Malformed rows are skipped and counted:
    /// a bad row costs its range, never the whole table.
    /// </summary>
    public static AsnTable Load(string? ipv4Path, string? ipv6Path)
    {
        var report = new AsnLoadReport();
        var byAsn = new Dictionary<long, CompanyMatch>();
        var v4 = new RangeTable<uint, CompanyMatch>.Builder();
        var v6 = new RangeTable<UInt128, CompanyMatch>.Builder();
        if (ipv4Path is not null)
        {
            Read(ipv4Path, AddressFamily.InterNetwork, byAsn, v4, v6, report);
        }

        if (ipv6Path is not null)
        {
            Read(ipv6Path, AddressFamily.InterNetworkV6, byAsn, v4, v6, report);
        }

        if (v4.Count + v6.Count == 0 && report.MalformedRows > 0)
        {
            throw new InvalidDataException($"no usable row, {report.MalformedRows} malformed ({string.Join("; ", report.MalformedExamples)})");
        }

        var table = new AsnTable(v4.Build(out var overlapping4), v6.Build(out var overlapping6), report);
        report.Overlapping = overlapping4 + overlapping6;
        report.Ranges = table.v4.Count + table.v6.Count;
        report.SystemCount = byAsn.Count;
        return table;
    }

    private static void Read(
        string path,
        AddressFamily numericFamily,
        Dictionary<long, CompanyMatch> byAsn,
        RangeTable<uint, CompanyMatch>.Builder v4,
        RangeTable<UInt128, CompanyMatch>.Builder v6,
        AsnLoadReport report)
    {
        using var reader = new StreamReader(path);
        var lineNumber = 0;
        Span<Range> fields = stackalloc Range[4];
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var span = line.AsSpan();
            if (span.Split(fields, ',') < 4)
            {
                report.Malformed(path, lineNumber, "fewer than 4 fields");
                continue;
            }

            // The organization is the rest of the line (it may hold commas, quoted CSV-style).
            var organization = Unquote(span[fields[3].Start.GetOffset(span.Length)..]);
            if (!long.TryParse(span[fields[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var asn) || asn < 0 || asn > uint.MaxValue)
            {
                report.Malformed(path, lineNumber, "the AS number is not a number");
                continue;
            }

            if (!byAsn.TryGetValue(asn, out var match))
            {
                var (kind, reason) = NetworkClassifier.Classify(asn, organization);
                match = new CompanyMatch(
                    organization.Length > 0 ? organization : $"AS{asn}", null, CompanySources.AsnCsv,
                    kind == NetworkKinds.Business ? 0.5f : 0.8f, kind == NetworkKinds.Business, kind, asn)
                { KindReason = reason };
                byAsn[asn] = match;
            }

            if (!TryReadRange(span[fields[0]], span[fields[1]], numericFamily, out var isV4, out var start, out var end) || start > end)
            {
                report.Malformed(path, lineNumber, "the range is not two addresses of one family, start ≤ end");
                continue;
            }

            if (isV4)
            {
                v4.Add((uint)start, (uint)end, match);
            }
            else
            {
                v6.Add(start, end, match);
            }
        }
    }

    private static bool TryReadRange(
        ReadOnlySpan<char> startText, ReadOnlySpan<char> endText, AddressFamily numericFamily,
        out bool isV4, out UInt128 start, out UInt128 end)
    {
        isV4 = numericFamily == AddressFamily.InterNetwork;
        start = end = 0;
        if (startText.ContainsAny('.', ':'))
        {
            if (!IPAddress.TryParse(startText, out var first) || !IPAddress.TryParse(endText, out var last)
                || first.AddressFamily != last.AddressFamily)
            {
                return false;
            }

            isV4 = first.AddressFamily == AddressFamily.InterNetwork;
            start = ToNumber(first);
            end = ToNumber(last);
            return true;
        }

        if (!UInt128.TryParse(startText, NumberStyles.None, CultureInfo.InvariantCulture, out start)
            || !UInt128.TryParse(endText, NumberStyles.None, CultureInfo.InvariantCulture, out end))
        {
            return false;
        }

        return !isV4 || end <= uint.MaxValue;
    }

    private static UInt128 ToNumber(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return written == 4
            ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes)
            : System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    private static string Unquote(ReadOnlySpan<char> field)
    {
        field = field.Trim();
        if (field.Length >= 2 && field[0] == '"' && field[^1] == '"')
        {
            return field[1..^1].ToString().Replace("\"\"", "\"", StringComparison.Ordinal);
        }

        return field.ToString();
    }
}

/// <summary>What loading the ASN CSV found: how much was usable, and where the first bad rows are.</summary>
internal sealed class AsnLoadReport
{
    private const int Examples = 3;

    public int Ranges { get; set; }

    public int SystemCount { get; set; }

    public int MalformedRows { get; private set; }

    public int Overlapping { get; set; }

    public List<string> MalformedExamples { get; } = [];

    public void Malformed(string path, int line, string why)
    {
        MalformedRows++;
        if (MalformedExamples.Count < Examples)
        {
            MalformedExamples.Add($"{Path.GetFileName(path)} line {line}: {why}");
        }
    }
}
