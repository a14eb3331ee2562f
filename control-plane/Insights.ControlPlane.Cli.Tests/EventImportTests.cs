using System.Text;
using System.Text.Json;
using Insights.ControlPlane.Cli.Events;

namespace Insights.ControlPlane.Cli.Tests;

/// <summary>The import's own parts: the bounded line reader, what each line becomes, the progress line, a dry run.</summary>
public sealed class EventImportTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Lines_are_numbered_with_their_end_offsets_crlf_and_a_byte_order_mark_are_accepted_and_the_last_line_needs_no_newline()
    {
        var bytes = Encoding.UTF8.GetBytes("\uFEFF{\"a\":1}\r\n\n{\"b\":2}\n{\"c\":3}");
        var lines = Read(bytes, 100);
        Assert.Equal([(1L, "{\"a\":1}"), (2L, ""), (3L, "{\"b\":2}"), (4L, "{\"c\":3}")], lines.Select(l => (l.Number, Encoding.UTF8.GetString(l.Bytes.Span))));
        Assert.Equal([12L, 13L, 21L, bytes.Length], lines.Select(l => l.End));

        // Resuming at a line's end offset reads on from the next line, with the right numbers.
        using var rest = new MemoryStream(bytes) { Position = 13 };
        var reader = new NdjsonLines(rest, 100, startOffset: 13, startLine: 3);
        Assert.True(reader.TryRead(out var third));
        Assert.Equal((3L, "{\"b\":2}"), (third.Number, Encoding.UTF8.GetString(third.Bytes.Span)));
    }

    [Theory]
    [InlineData(40)]      // the too-long line's newline is inside the buffer
    [InlineData(200_000)] // it is not: read through in several fills, never held
    public void An_oversized_line_is_reported_by_its_length_and_the_lines_after_it_are_read(int length)
    {
        var bytes = Encoding.UTF8.GetBytes("{\"ok\":1}\n" + new string('x', length) + "\n{\"ok\":2}\n" + new string('y', length));
        var lines = Read(bytes, 32);
        Assert.Equal([(1L, false, 8L), (2L, true, (long)length), (3L, false, 8L), (4L, true, (long)length)], lines.Select(l => (l.Number, l.TooLong, l.Length)));
        Assert.True(lines[1].Bytes.IsEmpty);
    }

    [Fact]
    public void A_line_gets_a_messageId_from_its_bytes_keeps_its_own_without_an_exports_namespace_and_loses_sentAt_and_any_key()
    {
        var preparer = Preparer();
        var line = """{"type":"pageview","anonymousId":"v1","timestamp":"2026-12-04T10:00:00Z","sentAt":"2026-12-04T10:00:01Z","writeKey":"ik_pub_other","context":{"page":{"url":"https://shop.example/"}}}""";
        var first = Event(preparer.Prepare(Raw(1, line)));
        var again = Event(preparer.Prepare(Raw(7, line)));
        Assert.Equal(first.GetProperty("messageId").GetString(), again.GetProperty("messageId").GetString());
        Assert.StartsWith(ImportLinePreparer.DerivedIdPrefix, first.GetProperty("messageId").GetString(), StringComparison.Ordinal);
        Assert.NotEqual(first.GetProperty("messageId").GetString(), Event(preparer.Prepare(Raw(1, line.Replace("v1", "v2", StringComparison.Ordinal)))).GetProperty("messageId").GetString());
        Assert.False(first.TryGetProperty("sentAt", out _));
        Assert.False(first.TryGetProperty("writeKey", out _));
        Assert.Equal("2026-12-04T10:00:00.000Z", first.GetProperty("timestamp").GetString());

        var exported = Event(preparer.Prepare(Raw(2, """{"type":"order","event_id":"srv:order-1","site_id":"shop","timestamp":"2026-12-04T10:00:00Z"}""")));
        Assert.Equal("order-1", exported.GetProperty("messageId").GetString());
        Assert.False(exported.TryGetProperty("event_id", out _));
        Assert.False(exported.TryGetProperty("site_id", out _));
    }

    [Fact]
    public void A_subject_export_imports_its_events_rows_as_the_events_they_were_and_skips_every_other_row()
    {
        var preparer = Preparer();
        Assert.True(preparer.Prepare(Raw(1, """{"table":"_subject","ids":{"userId":"alice"}}""")).IsBlank);
        Assert.True(preparer.Prepare(Raw(2, """{"table":"sessions","session_id":"s1","site_id":"shop"}""")).IsBlank);
        var row = """{"table":"events","event_id":"srv:o-1","site_id":"shop","type":"pageview","name":"Pricing","timestamp":"2026-12-04 10:00:00.250","anonymous_id":"v1","user_id":"alice","ip":"139.48.1.0","user_agent":"Mozilla/5.0","url":"https://shop.example/pricing?utm_source=x","referrer":"https://news.example/","title":"Preise","locale":"de-DE","utm_source":"x","utm_campaign":"winter","properties":"{\"plan\":\"pro\"}"}""";
        var e = Event(preparer.Prepare(Raw(3, row)));
        Assert.Equal(("pageview", "Pricing", "o-1", "2026-12-04T10:00:00.250Z", "v1", "alice"),
            (e.GetProperty("type").GetString(), e.GetProperty("name").GetString(), e.GetProperty("messageId").GetString(), e.GetProperty("timestamp").GetString(),
             e.GetProperty("anonymousId").GetString(), e.GetProperty("userId").GetString()));
        var context = e.GetProperty("context");
        Assert.Equal(("https://shop.example/pricing?utm_source=x", "Preise", "139.48.1.0", "Mozilla/5.0", "winter", "pro"),
            (context.GetProperty("page").GetProperty("url").GetString(), context.GetProperty("page").GetProperty("title").GetString(), context.GetProperty("ip").GetString(),
             context.GetProperty("userAgent").GetString(), context.GetProperty("campaign").GetProperty("name").GetString(), e.GetProperty("properties").GetProperty("plan").GetString()));
        Assert.Equal("other_site", preparer.Prepare(Raw(4, row.Replace("\"site_id\":\"shop\"", "\"site_id\":\"rival\"", StringComparison.Ordinal))).Problem?.Reason);
    }

    [Theory]
    [InlineData("""{"type":"pageview","timestamp":"2026-12-04T10:00:00Z","site_id":"rival"}""", "other_site")]
    [InlineData("""{"type":"pageview","timestamp":"2026-12-04T10:00:00Z","siteId":"rival\u001b[31m"}""", "other_site")]
    [InlineData("""{"type":"pageview"}""", "missing_timestamp")]
    [InlineData("""{"type":"pageview","timestamp":1733400000}""", "invalid_timestamp")]
    [InlineData("""{"type":"pageview","timestamp":"2026-11-01T10:00:00Z"}""", "too_old")]
    [InlineData("""{"type":"pageview","timestamp":"2026-12-06T10:00:00Z"}""", "in_future")]
    [InlineData("""{"type":"pageview","timestamp":"2026-12-04T10:00:00Z","messageId":""}""", "invalid_id")]
    [InlineData("""{"type":"pageview","timestamp":"2026-12-04T10:00:00Z","messageId":7}""", "invalid_id")]
    [InlineData("""[{"type":"pageview"}]""", "not_an_object")]
    [InlineData("""{"type":"pageview",""", "invalid_json")]
    public void A_line_that_cannot_be_imported_as_it_is_says_why(string line, string reason)
    {
        var prepared = Preparer().Prepare(Raw(12, line));
        var problem = Assert.IsType<LineProblem>(prepared.Problem);
        Assert.Equal((12L, reason), (problem.Line, problem.Reason));
        Assert.StartsWith($"line 12: {reason}: ", problem.ToString(), StringComparison.Ordinal);
        // Hostile bytes never reach the terminal as control characters.
        Assert.DoesNotContain('\u001b', problem.Detail);
    }

    [Fact]
    public void Invalid_utf8_and_an_oversized_line_are_refused_and_a_blank_line_is_nothing()
    {
        var preparer = Preparer();
        byte[] invalid = [.. "{\"type\":\"pageview\",\"name\":\""u8, 0xC3, 0x28, .. "\"}"u8];
        Assert.Equal("invalid_utf8", preparer.Prepare(new RawLine(3, 0, invalid, invalid.Length, false)).Problem?.Reason);
        Assert.Equal("line_too_long", preparer.Prepare(new RawLine(4, 0, ReadOnlyMemory<byte>.Empty, 99_999, true)).Problem?.Reason);
        Assert.True(preparer.Prepare(Raw(5, "  \t")).IsBlank);
    }

    [Fact]
    public void Progress_draws_a_bar_on_a_terminal_and_a_plain_line_per_interval_otherwise()
    {
        var time = new ManualTime();
        var lines = new StringWriter();
        var meter = new ProgressMeter(lines, ProgressMode.Lines, "import", 1000, time, TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(5));
        meter.Report(250, 500);
        time.Advance(TimeSpan.FromSeconds(1));
        meter.Report(300, 600); // within the interval: not drawn
        time.Advance(TimeSpan.FromSeconds(10));
        meter.Report(800, 1600);
        Assert.Equal(["import:  25.0%  500 events  100/s  ETA 0:15", "import:  80.0%  1,600 events  100/s  ETA 0:04"],
            lines.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var terminal = new StringWriter();
        var bar = new ProgressMeter(terminal, ProgressMode.Terminal, "import", 1000, time, TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(2));
        bar.Report(500, 50);
        bar.Finish();
        Assert.Contains("\r\u001b[2K[###############---------------]  50.0%  50 events  25/s  ETA 0:02", terminal.ToString(), StringComparison.Ordinal);
        Assert.EndsWith(Environment.NewLine, terminal.ToString(), StringComparison.Ordinal);

        // Stdin has no length: counts and pace, no percent or time left.
        var stdin = new StringWriter();
        var unknown = new ProgressMeter(stdin, ProgressMode.Lines, "import", 0, time, TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(2));
        unknown.Report(4096, 50);
        Assert.Equal("import: 50 events  25/s", stdin.ToString().TrimEnd());

        var quiet = new StringWriter();
        new ProgressMeter(quiet, ProgressMode.None, "import", 1000, time, TimeSpan.Zero).Report(1, 1);
        Assert.Equal("", quiet.ToString());
        Assert.Equal(("--:--", "0:00", "1:00:00"), (ProgressMeter.Eta(0, TimeSpan.FromSeconds(3)), ProgressMeter.Eta(1, TimeSpan.FromSeconds(3)), ProgressMeter.Eta(0.5, TimeSpan.FromHours(1))));
    }

    [Fact]
    public async Task A_dry_run_reports_each_refused_line_by_number_counts_what_would_be_sent_and_strict_stops_at_the_first()
    {
        var file = string.Join('\n',
            """{"type":"pageview","anonymousId":"a","timestamp":"2026-12-04T10:00:00Z"}""",
            "not json",
            """{"type":"pageview","anonymousId":"b","timestamp":"2026-12-04T10:01:00Z","site_id":"rival"}""",
            "",
            """{"type":"pageview","anonymousId":"c","timestamp":"2026-12-04T10:02:00Z"}""");
        var (summary, said) = await DryRunAsync(file, strict: false);
        Assert.Equal((5L, 2L, 2L, false), (summary.Lines, summary.Sent, summary.Problems, summary.Stopped));
        Assert.Collection(said, l => Assert.StartsWith("line 2: invalid_json", l, StringComparison.Ordinal), l => Assert.StartsWith("line 3: other_site", l, StringComparison.Ordinal));
        Assert.Equal("dry run: 5 lines read, 2 events would be sent to site shop, 2 lines refused (invalid_json 1, other_site 1)",
            EventImport.Describe(summary, "shop", dryRun: true));

        var (strict, strictSaid) = await DryRunAsync(file, strict: true);
        Assert.Equal((2L, 1L, true), (strict.Lines, strict.Sent, strict.Stopped));
        Assert.StartsWith("line 2: invalid_json", Assert.Single(strictSaid), StringComparison.Ordinal);
    }

    private static async Task<(ImportSummary Summary, List<string> Said)> DryRunAsync(string file, bool strict)
    {
        var said = new StringWriter();
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(file));
        var plan = new ImportPlan { File = "test.ndjson", Preparer = Preparer(), Strict = strict };
        var summary = await new EventImport(null, new ProgressMeter(said, ProgressMode.None, "import", stream.Length, TimeProvider.System, TimeSpan.FromSeconds(1)), TimeProvider.System)
            .RunAsync(stream, plan, Ct);
        return (summary, [.. said.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))]);
    }

    private static ImportLinePreparer Preparer() => new("shop", Now, TimeSpan.FromDays(7), TimeSpan.FromHours(1));

    private static RawLine Raw(long number, string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        return new RawLine(number, 0, bytes, bytes.Length, false);
    }

    private static JsonElement Event(PreparedLine prepared)
    {
        Assert.Null(prepared.Problem);
        return JsonDocument.Parse(prepared.Event!).RootElement;
    }

    private static List<RawLine> Read(byte[] bytes, int max)
    {
        var reader = new NdjsonLines(new MemoryStream(bytes), max);
        var lines = new List<RawLine>();
        while (reader.TryRead(out var line))
        {
            // The bytes are the reader's buffer until the next call: copied, as a caller that keeps them must.
            lines.Add(line with { Bytes = line.Bytes.ToArray() });
        }

        return lines;
    }

    /// <summary>A clock the test moves.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => ticks;

        public override DateTimeOffset GetUtcNow() => Now + TimeSpan.FromTicks(ticks);

        public void Advance(TimeSpan by) => ticks += by.Ticks;
    }
}
