using System.Text;
using Insights.Contracts;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Unit;

internal static class Parse
{
    public static readonly DateTimeOffset ReceivedAt = new(2026, 3, 14, 15, 9, 26, TimeSpan.Zero);

    public static IngestRequestContext Browser => new("demo", KeyKind.Write, ReceivedAt, "203.0.113.9", "Mozilla/5.0 (request)");

    public static IngestRequestContext Server => Browser with { KeyKind = KeyKind.Server, ClientIp = "198.51.100.1", UserAgent = "shop-backend/1.0" };

    /// <summary>Parses and returns what a request would get (events are copied out before the batch is disposed).</summary>
    public static Result Json(string body, IngestRequestContext? context = null, IngestOptions? options = null, BodyFormat format = BodyFormat.Json) =>
        Bytes(Encoding.UTF8.GetBytes(body), context, options, format);

    public static Result Bytes(byte[] body, IngestRequestContext? context = null, IngestOptions? options = null, BodyFormat format = BodyFormat.Json)
    {
        var parser = new EventBatchParser(options ?? new IngestOptions());
        using var batch = parser.Parse(body, format, context ?? Browser);
        // Encoding is what every accepted event goes through next; doing it here proves each one can be.
        var decoded = batch.Events.Select(e => EventCodec.Decode(EventCodec.Encode(e))).ToList();
        Assert.All(decoded, d => Assert.Null(d.Reason));
        return new Result(decoded.Select(d => d.Event!).ToList(), batch.Rejections.ToList(), batch.Error);
    }

    /// <summary>One event object in a batch of one; asserts it was accepted.</summary>
    public static PipelineEvent One(string eventJson, IngestRequestContext? context = null)
    {
        var result = Json(eventJson, context);
        Assert.Null(result.Error);
        Assert.Empty(result.Rejections);
        return Assert.Single(result.Events);
    }

    /// <summary>One event that must be rejected; returns the rejection.</summary>
    public static EventRejection Rejected(string eventJson, IngestRequestContext? context = null)
    {
        var result = Json(eventJson, context);
        Assert.Null(result.Error);
        Assert.Empty(result.Events);
        return Assert.Single(result.Rejections);
    }

    public sealed record Result(List<PipelineEvent> Events, List<EventRejection> Rejections, BatchError? Error);
}

/// <summary>The same, with a server key: orders, refunds, cancellations and chats need one.</summary>
internal static class ServerParse
{
    public static PipelineEvent One(string eventJson) => Parse.One(eventJson, Parse.Server);

    public static EventRejection Rejected(string eventJson) => Parse.Rejected(eventJson, Parse.Server);

    public static Parse.Result Json(string body) => Parse.Json(body, Parse.Server);
}
