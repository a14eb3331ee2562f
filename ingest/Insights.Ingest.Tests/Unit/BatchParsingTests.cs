using System.Text;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Unit;

/// <summary>Framing and limits of a whole request body: what is refused as a whole and what per event.</summary>
public sealed class BatchParsingTests
{
    private const string Valid = """{"type":"track","event":"x","anonymousId":"v"}""";

    [Fact]
    public void Valid_events_are_accepted_and_invalid_ones_reported_by_their_index()
    {
        var result = Parse.Json($$"""[{{Valid}}, {"type":"track","event":"x"}, {{Valid}}, 17, {"type":"nope","anonymousId":"v"}]""");

        Assert.Null(result.Error);
        Assert.Equal(2, result.Events.Count);
        Assert.Equal(
            [(1, RejectReasons.MissingAnonymousId), (3, RejectReasons.NotAnObject), (4, RejectReasons.UnknownType)],
            result.Rejections.Select(r => (r.Index, r.Reason)));
    }

    [Fact]
    public void A_single_object_and_a_segment_batch_are_batches_too()
    {
        Assert.Single(Parse.Json(Valid).Events);

        // Segment's /v1/batch: the batch's sentAt corrects every event's clock (here 1 h behind).
        var result = Parse.Json($$"""{"batch":[{"type":"track","event":"x","anonymousId":"v","timestamp":"2026-03-14T14:00:00Z"}],"sentAt":"2026-03-14T14:09:26Z"}""");
        Assert.Equal(new DateTimeOffset(2026, 3, 14, 15, 0, 0, TimeSpan.Zero), Assert.Single(result.Events).Timestamp);
    }

    [Theory]
    [InlineData("", RejectReasons.EmptyBatch)]
    [InlineData(" \r\n\t ", RejectReasons.EmptyBatch)]
    [InlineData("[]", RejectReasons.EmptyBatch)]
    [InlineData("""{"batch":[]}""", RejectReasons.EmptyBatch)]
    [InlineData("42", RejectReasons.InvalidBatch)]
    [InlineData("\"event\"", RejectReasons.InvalidBatch)]
    [InlineData("null", RejectReasons.InvalidBatch)]
    [InlineData("""{"batch":[{"type":"track","event":"x","anonymousId":"v"}],"sentAt":"soon"}""", RejectReasons.InvalidBatch)]
    public void Bodies_without_events_are_refused_as_a_whole(string body, string reason)
    {
        var result = Parse.Json(body);

        Assert.Equal(reason, result.Error?.Reason);
        Assert.Empty(result.Events);
        Assert.Empty(result.Rejections);
    }

    [Fact]
    public void Malformed_json_is_refused_with_its_line_and_byte()
    {
        var result = Parse.Json("[\n" + Valid + ",\n  {\"type\": \"track\" \"event\": \"x\"}\n]");

        Assert.Equal(RejectReasons.MalformedJson, result.Error?.Reason);
        Assert.Equal(3, result.Error?.Line);
        Assert.Equal(19, result.Error?.BytePositionInLine);
        Assert.StartsWith("line 3, byte 19: ", result.Error?.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", result.Error?.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[{\"type\":\"track\",}]")]
    [InlineData("[{'type':'track'}]")]
    [InlineData("[" + Valid + "] trailing")]
    [InlineData("[" + Valid + "/* comment */]")]
    [InlineData("[{\"type\":\"track\",\"event\":\"x\",\"anonymousId\":\"v\"}")]
    [InlineData("[{\"a\":\"raw \u0001 control\"}]")]
    [InlineData("[NaN]")]
    public void Anything_but_strict_json_is_malformed(string body) =>
        Assert.Equal(RejectReasons.MalformedJson, Parse.Json(body).Error?.Reason);

    [Fact]
    public void Nesting_deeper_than_the_limit_is_malformed_json_not_a_crash()
    {
        var deep = new string('[', 10_000) + new string(']', 10_000);
        var result = Parse.Json($$$"""[{"type":"track","event":"x","anonymousId":"v","properties":{"p":{{{deep}}}}}]""");

        Assert.Equal(RejectReasons.MalformedJson, result.Error?.Reason);
        Assert.Contains("depth of 32", result.Error?.Detail, StringComparison.Ordinal);

        var allowed = new string('[', 25) + new string(']', 25);
        Assert.Single(Parse.Json($$$"""[{"type":"track","event":"x","anonymousId":"v","properties":{"p":{{{allowed}}}}}]""").Events);
    }

    [Fact]
    public void Invalid_utf8_is_refused_with_the_offset_of_the_first_bad_byte()
    {
        byte[] body = [.. "[{\"type\":\"track\",\"event\":\"x\",\"anonymousId\":\"v"u8, 0xC3, 0x28, .. "\"}]"u8];

        var result = Parse.Bytes(body);

        Assert.Equal(RejectReasons.InvalidUtf8, result.Error?.Reason);
        Assert.Equal("The body is not valid UTF-8 (first invalid byte at offset 45)", result.Error?.Detail);
    }

    [Fact]
    public void Overlong_encodings_and_encoded_surrogates_are_invalid_utf8()
    {
        Assert.Equal(RejectReasons.InvalidUtf8, Parse.Bytes([.. "[\""u8, 0xC0, 0xAF, .. "\"]"u8]).Error?.Reason);
        Assert.Equal(RejectReasons.InvalidUtf8, Parse.Bytes([.. "[\""u8, 0xED, 0xA0, 0x80, .. "\"]"u8]).Error?.Reason);
    }

    [Fact]
    public void A_utf8_byte_order_mark_is_tolerated()
    {
        Assert.Single(Parse.Bytes([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Valid)]).Events);
    }

    [Fact]
    public void At_most_500_events_per_request()
    {
        string Batch(int n) => "[" + string.Join(',', Enumerable.Repeat(Valid, n)) + "]";

        Assert.Equal(500, Parse.Json(Batch(500)).Events.Count);
        var result = Parse.Json(Batch(501));
        Assert.Equal(RejectReasons.TooManyEvents, result.Error?.Reason);
        Assert.Equal("The batch holds 501 events; at most 500 are accepted per request.", result.Error?.Detail);
    }

    [Fact]
    public void An_event_over_32_kb_is_rejected_alone()
    {
        var big = $$$"""{"type":"track","event":"x","anonymousId":"v","properties":{"blob":"{{{new string('x', 33_000)}}}"}}""";

        var result = Parse.Json($"[{Valid},{big}]");

        Assert.Single(result.Events);
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((1, RejectReasons.EventTooLarge), (rejection.Index, rejection.Reason));
        Assert.Equal($"the event is {Encoding.UTF8.GetByteCount(big)} bytes; at most 32768 are accepted", rejection.Detail);
    }

    [Fact]
    public void Ndjson_lines_are_events_and_a_bad_line_costs_only_itself()
    {
        var body = $"{Valid}\r\n\n  \nnot json\n{{\"type\":\"track\"}}\n{Valid}";

        var result = Parse.Json(body, format: BodyFormat.NdJson);

        Assert.Null(result.Error);
        Assert.Equal(2, result.Events.Count);
        Assert.Equal([(1, RejectReasons.MalformedJson), (2, RejectReasons.MissingEventName)], result.Rejections.Select(r => (r.Index, r.Reason)));
        Assert.StartsWith("line 4, byte 1: ", result.Rejections[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Ndjson_keeps_the_limits()
    {
        var tooMany = string.Join('\n', Enumerable.Repeat(Valid, 501));
        Assert.Equal(RejectReasons.TooManyEvents, Parse.Json(tooMany, format: BodyFormat.NdJson).Error?.Reason);

        var big = $$$"""{"type":"track","event":"x","anonymousId":"v","properties":{"blob":"{{{new string('x', 33_000)}}}"}}""";
        var result = Parse.Json($"{big}\n{Valid}\n", format: BodyFormat.NdJson);
        Assert.Equal((0, RejectReasons.EventTooLarge), (result.Rejections.Single().Index, result.Rejections.Single().Reason));
        Assert.Single(result.Events);

        var deep = $$$"""{"type":"track","event":"x","anonymousId":"v","properties":{"p":{{{new string('[', 100)}}}{{{new string(']', 100)}}}}}""";
        Assert.Equal(RejectReasons.MalformedJson, Parse.Json(deep, format: BodyFormat.NdJson).Rejections.Single().Reason);
    }

    [Fact]
    public void Limits_follow_the_options()
    {
        var options = new IngestOptions { MaxBatchEvents = 2, MaxEventBytes = 1024, MaxJsonDepth = 4 };

        Assert.Equal(RejectReasons.TooManyEvents, Parse.Json($"[{Valid},{Valid},{Valid}]", options: options).Error?.Reason);
        var big = $$$"""{"type":"track","event":"x","anonymousId":"v","properties":{"blob":"{{{new string('x', 1100)}}}"}}""";
        Assert.Equal(RejectReasons.EventTooLarge, Parse.Json($"[{big}]", options: options).Rejections.Single().Reason);
        Assert.Equal(RejectReasons.MalformedJson, Parse.Json("""[{"type":"track","event":"x","anonymousId":"v","properties":{"a":{"b":{}}}}]""", options: options).Error?.Reason);
    }
}
