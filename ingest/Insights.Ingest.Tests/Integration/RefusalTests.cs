using System.Net;
using System.Text;
using Insights.DevStack.Testing;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Integration;

/// <summary>One host for the refusals that never reach Kafka.</summary>
public sealed class RefusalHost(DevStackFixture stack) : IAsyncLifetime
{
    public IngestHost Host { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        Host = IngestHost.Start(stack.KafkaBootstrap);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}

/// <summary>Every refusal a sender can meet, each with its status code and machine-readable reason, as problem details.</summary>
public sealed class RefusalTests(RefusalHost fixture) : IClassFixture<RefusalHost>
{
    private const string Valid = """{"type":"track","event":"x","anonymousId":"v"}""";
    private IngestHost Host => fixture.Host;

    [Fact]
    public async Task No_key_or_an_unknown_key_is_401_with_a_challenge()
    {
        var none = await Host.PostAsync(Valid, key: null);
        await Answer.ProblemAsync(none, 401, RejectReasons.MissingKey);
        Assert.Equal("Basic realm=\"insights\"", none.Headers.WwwAuthenticate.ToString());

        await Answer.ProblemAsync(await Host.PostAsync(Valid, key: "not-a-key-of-any-site"), 401, RejectReasons.UnknownKey);
        await Answer.ProblemAsync(await Host.PostAsync(Valid, key: null, path: "/v1/events?key=guess-0000"), 401, RejectReasons.UnknownKey);
    }

    [Fact]
    public async Task A_read_key_cannot_write() =>
        await Answer.ProblemAsync(await Host.PostAsync(Valid, key: IngestHost.ReadKey), 403, RejectReasons.KeyCannotWrite);

    [Fact]
    public async Task The_key_is_checked_before_the_body_is_read()
    {
        // An anonymous client cannot make ingest read or parse more than the body limit (a key may still ride in the body,
        // Segment-style, so a body within the limit is looked at for one).
        var response = await Host.PostAsync(new byte[600_000], key: null);
        await Answer.ProblemAsync(response, 401, RejectReasons.MissingKey);
    }

    [Theory]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json; charset=iso-8859-1")]
    public async Task Unreadable_content_types_are_415(string contentType) =>
        await Answer.ProblemAsync(await Host.PostAsync(Valid, contentType: contentType), 415, RejectReasons.UnsupportedMediaType);

    [Theory]
    [InlineData("deflate")]
    [InlineData("br")]
    [InlineData("zstd")]
    public async Task Compressions_other_than_gzip_are_415_rather_than_garbage_json(string encoding)
    {
        var response = await Host.PostAsync(Valid, configure: request => request.Content!.Headers.ContentEncoding.Add(encoding));
        await Answer.ProblemAsync(response, 415, RejectReasons.UnsupportedMediaType);
    }

    [Fact]
    public async Task A_body_labelled_gzip_that_is_not_is_400_unreadable()
    {
        var response = await Host.PostAsync(Valid, configure: request => request.Content!.Headers.ContentEncoding.Add("gzip"));
        await Answer.ProblemAsync(response, 400, RejectReasons.UnreadableBody);
    }

    [Fact]
    public async Task An_event_over_32_kb_alone_is_413_and_listed()
    {
        var big = $$$"""{"type":"track","event":"x","anonymousId":"v","properties":{"blob":"{{{new string('x', 33_000)}}}"}}""";

        var body = await Answer.ProblemAsync(await Host.PostAsync($"[{big}]"), 413, RejectReasons.EventTooLarge);

        Assert.Equal([(0, RejectReasons.EventTooLarge)], Answer.Rejections(body));
        Assert.Equal(0, body.GetProperty("accepted").GetInt32());
    }

    [Fact]
    public async Task A_body_over_500_kb_is_413_whether_or_not_it_announces_its_length()
    {
        var events = "[" + string.Join(',', Enumerable.Repeat(Valid, 12_000)) + "]";
        Assert.True(events.Length > 500 * 1024);

        await Answer.ProblemAsync(await Host.PostAsync(events), 413, RejectReasons.BodyTooLarge);

        // Chunked, with no Content-Length: refused while reading.
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events")
        {
            Content = new StreamContent(new UnknownLengthStream(Encoding.UTF8.GetBytes(events))),
        };
        request.Headers.Add("X-Insights-Key", IngestHost.WriteKey);
        request.Content.Headers.ContentType = new("application/json");
        var chunked = await Host.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Null(request.Content.Headers.ContentLength);
        await Answer.ProblemAsync(chunked, 413, RejectReasons.BodyTooLarge);
    }

    [Fact]
    public async Task Malformed_json_is_400_with_its_position()
    {
        var body = await Answer.ProblemAsync(await Host.PostAsync("[\n  {\"type\":\"track\",,}\n]"), 400, RejectReasons.MalformedJson);

        Assert.Equal(2, body.GetProperty("line").GetInt32());
        Assert.Equal(18, body.GetProperty("bytePositionInLine").GetInt32());
    }

    [Fact]
    public async Task Deeply_nested_json_is_400_not_a_stack_overflow()
    {
        var deep = new string('[', 200_000) + new string(']', 200_000);
        var body = await Answer.ProblemAsync(await Host.PostAsync(deep), 400, RejectReasons.MalformedJson);
        Assert.Contains("depth", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_utf8_is_400()
    {
        byte[] body = [.. "[{\"type\":\"track\",\"event\":\"x\",\"anonymousId\":\""u8, 0xFF, 0xFE, 0xFD, .. "\"}]"u8];
        await Answer.ProblemAsync(await Host.PostAsync(body), 400, RejectReasons.InvalidUtf8);
    }

    [Fact]
    public async Task A_batch_of_only_invalid_events_is_400_listing_each_reason()
    {
        var response = await Host.PostAsync("""
            [{"type":"track","event":"x","anonymousId":17},
             {"type":"pageview","anonymousId":"v"},
             {"type":"merge","userId":"u"},
             "just a string",
             {"type":"track","event":"x","anonymousId":"v","timestamp":"last tuesday"}]
            """);

        var body = await Answer.ProblemAsync(response, 400, RejectReasons.InvalidField);
        Assert.Equal(
            [(0, RejectReasons.InvalidField), (1, RejectReasons.MissingUrl), (2, RejectReasons.UnknownType), (3, RejectReasons.NotAnObject), (4, RejectReasons.InvalidTimestamp)],
            Answer.Rejections(body));
        Assert.Equal("\"anonymousId\" must be a string, got a number", body.GetProperty("rejected")[0].GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("[]", RejectReasons.EmptyBatch)]
    [InlineData("", RejectReasons.EmptyBatch)]
    [InlineData("true", RejectReasons.InvalidBatch)]
    public async Task Requests_without_events_are_400(string body, string reason) =>
        await Answer.ProblemAsync(await Host.PostAsync(body), 400, reason);

    [Fact]
    public async Task More_than_500_events_is_400()
    {
        var events = "[" + string.Join(',', Enumerable.Repeat(Valid, 501)) + "]";
        await Answer.ProblemAsync(await Host.PostAsync(events), 400, RejectReasons.TooManyEvents);
    }

    [Fact]
    public async Task A_broken_chunked_body_is_400_not_a_crash()
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(Host.Client.BaseAddress!.Host, Host.Client.BaseAddress.Port, TestContext.Current.CancellationToken);
        var stream = tcp.GetStream();
        var request = "POST /v1/events HTTP/1.1\r\nHost: ingest\r\nX-Insights-Key: " + IngestHost.WriteKey +
            "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[{\"ty\r\nZZ-not-a-size\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), TestContext.Current.CancellationToken);

        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"unreadable_body\"", response, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.GetAsync("/healthz", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Other_methods_and_paths_are_problem_details_too()
    {
        var get = await Host.Client.GetAsync("/v1/events", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal("application/problem+json", get.Content.Headers.ContentType?.MediaType);

        var missing = await Host.Client.GetAsync("/v1/nothing-here", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>A stream that hides its length, so HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
