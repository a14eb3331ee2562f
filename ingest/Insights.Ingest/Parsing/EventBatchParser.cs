using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Insights.Contracts;

namespace Insights.Ingest.Parsing;

/// <summary>
/// The hot path of <c>POST /v1/events</c> from bytes to envelopes: frames the body (JSON or NDJSON), enforces the
/// batch and per-event limits, and maps each event, collecting per-event rejections. No I/O, no logging, no
/// reflection: a benchmark can call <see cref="Parse"/> directly.
/// </summary>
public sealed class EventBatchParser
{
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private readonly EventMapper mapper;
    private readonly JsonDocumentOptions documentOptions;
    private readonly int maxEventBytes;
    private readonly int maxBatchEvents;

    public EventBatchParser(IngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        mapper = new EventMapper(options);
        documentOptions = new JsonDocumentOptions { MaxDepth = options.MaxJsonDepth };
        maxEventBytes = options.MaxEventBytes;
        maxBatchEvents = options.MaxBatchEvents;
    }

    /// <summary>
    /// Parses a whole request body. The events' <see cref="PipelineEvent.Properties"/> point into
    /// <paramref name="body"/> and into the returned batch's documents: encode them before disposing the batch or
    /// reusing the body's buffer.
    /// </summary>
    public ParsedBatch Parse(ReadOnlyMemory<byte> body, BodyFormat format, in IngestRequestContext request)
    {
        var batch = new ParsedBatch();
        if (body.Span.StartsWith(Utf8Bom))
        {
            // Some encoders (PowerShell, older .NET writers) start UTF-8 with a byte order mark; JSON readers refuse it.
            body = body[Utf8Bom.Length..];
        }

        var span = body.Span;
        if (span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return batch.Fail(RejectReasons.EmptyBatch, "The body is empty; send an event object, an array of events or NDJSON lines");
        }

        // One vectorized pass over the whole body: the JSON reader does not check the bytes inside strings, and an
        // invalid sequence must never reach Kafka, ClickHouse or a dashboard.
        if (!Utf8.IsValid(span))
        {
            return batch.Fail(RejectReasons.InvalidUtf8, $"The body is not valid UTF-8 (first invalid byte at offset {FirstInvalidUtf8(span)})");
        }

        if (format == BodyFormat.NdJson)
        {
            ParseLines(body, request, batch);
        }
        else
        {
            ParseDocument(body, request, batch);
        }

        return batch;
    }

    private void ParseDocument(ReadOnlyMemory<byte> body, in IngestRequestContext request, ParsedBatch batch)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, documentOptions);
        }
        catch (JsonException error)
        {
            batch.FailMalformed(error);
            return;
        }

        batch.Own(document);
        var root = document.RootElement;
        DateTimeOffset? sentAt = null;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("batch"u8, out var wrapped) && wrapped.ValueKind == JsonValueKind.Array)
        {
            // Segment's /v1/batch body: {"batch": [...], "sentAt": "..."}.
            if (root.TryGetProperty("sentAt"u8, out var sent) && sent.ValueKind != JsonValueKind.Null)
            {
                if (!FieldReaders.TryReadInstant(sent, out var sentValue))
                {
                    batch.Fail(RejectReasons.InvalidBatch, "The batch's \"sentAt\" must be an ISO 8601 date-time");
                    return;
                }

                sentAt = sentValue;
            }

            root = wrapped;
        }

        switch (root.ValueKind)
        {
            case JsonValueKind.Object:
                MapOne(root, 0, request, sentAt, batch);
                return;
            case JsonValueKind.Array:
                var count = root.GetArrayLength();
                if (count == 0)
                {
                    batch.Fail(RejectReasons.EmptyBatch, "The batch holds no event.");
                    return;
                }

                if (count > maxBatchEvents)
                {
                    batch.Fail(RejectReasons.TooManyEvents, $"The batch holds {count} events; at most {maxBatchEvents} are accepted per request.");
                    return;
                }

                batch.Reserve(count);
                var index = 0;
                foreach (var element in root.EnumerateArray())
                {
                    MapOne(element, index++, request, sentAt, batch);
                }

                return;
            default:
                batch.Fail(RejectReasons.InvalidBatch, "The body must be an event object, an array of events or {\"batch\": [...]}");
                return;
        }
    }

    private void ParseLines(ReadOnlyMemory<byte> body, in IngestRequestContext request, ParsedBatch batch)
    {
        var count = CountLines(body.Span);
        if (count > maxBatchEvents)
        {
            batch.Fail(RejectReasons.TooManyEvents, $"The body holds {count} lines; at most {maxBatchEvents} events are accepted per request");
            return;
        }

        batch.Reserve(count);
        var index = 0;
        var lineNumber = 0;
        var rest = body;
        while (!rest.IsEmpty)
        {
            lineNumber++;
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (IsBlank(line.Span))
            {
                continue;
            }

            if (line.Length > maxEventBytes)
            {
                batch.Reject(index++, RejectReasons.EventTooLarge, $"the event is {line.Length} bytes; at most {maxEventBytes} are accepted");
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line, documentOptions);
            }
            catch (JsonException error)
            {
                batch.Reject(index++, RejectReasons.MalformedJson, $"line {lineNumber}, byte {error.BytePositionInLine}: {FirstSentence(error.Message)}");
                continue;
            }

            batch.Own(document);
            MapOne(document.RootElement, index++, request, null, batch);
        }
    }

    private void MapOne(JsonElement element, int index, in IngestRequestContext request, DateTimeOffset? sentAt, ParsedBatch batch)
    {
        var size = JsonMarshal.GetRawUtf8Value(element).Length;
        if (size > maxEventBytes)
        {
            batch.Reject(index, RejectReasons.EventTooLarge, $"the event is {size} bytes; at most {maxEventBytes} are accepted");
            return;
        }

        if (mapper.TryMap(element, request, sentAt, out var mapped, out var failure))
        {
            batch.Events.Add(mapped);
        }
        else
        {
            batch.Reject(index, failure.Reason, failure.Detail);
        }
    }

    private static int CountLines(ReadOnlySpan<byte> body)
    {
        var count = 0;
        while (!body.IsEmpty)
        {
            var end = body.IndexOf((byte)'\n');
            if (!IsBlank(end < 0 ? body : body[..end]))
            {
                count++;
            }

            body = end < 0 ? [] : body[(end + 1)..];
        }

        return count;
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim(" \t\r"u8).IsEmpty;

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> body)
    {
        try
        {
            _ = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetCharCount(body);
            return -1;
        }
        catch (DecoderFallbackException error)
        {
            return error.Index;
        }
    }

    // JsonException messages end with "LineNumber: 0 | BytePositionInLine: 7.", which the detail states 1-based itself.
    internal static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return cut < 0 ? message : message[..cut];
    }
}

/// <summary>The outcome of parsing one request: accepted events, per-event rejections, or a request-level error.</summary>
public sealed class ParsedBatch : IDisposable
{
    private JsonDocument? document;
    private List<JsonDocument>? moreDocuments;

    /// <summary>Events that passed validation, in request order.</summary>
    public List<PipelineEvent> Events { get; private set; } = [];

    /// <summary>Events that did not, by their index in the request.</summary>
    public List<EventRejection> Rejections { get; } = [];

    /// <summary>Set when the request as a whole is refused (nothing is accepted).</summary>
    public BatchError? Error { get; private set; }

    /// <summary>Releases the parsed documents; the events' properties are invalid afterwards.</summary>
    public void Dispose()
    {
        document?.Dispose();
        document = null;
        if (moreDocuments is not null)
        {
            foreach (var more in moreDocuments)
            {
                more.Dispose();
            }

            moreDocuments = null;
        }
    }

    internal ParsedBatch Fail(string reason, string detail)
    {
        Error = new BatchError(reason, detail, null, null);
        Events.Clear();
        Rejections.Clear();
        return this;
    }

    internal void FailMalformed(JsonException error)
    {
        // JsonException positions are zero-based; people count lines from 1.
        var line = error.LineNumber + 1;
        Error = new BatchError(RejectReasons.MalformedJson,
            $"line {line}, byte {error.BytePositionInLine}: {EventBatchParser.FirstSentence(error.Message)}", line, error.BytePositionInLine);
    }

    internal void Reserve(int count) => Events = new List<PipelineEvent>(count);

    internal void Reject(int index, string reason, string detail) => Rejections.Add(new EventRejection(index, reason, detail));

    internal void Own(JsonDocument parsed)
    {
        if (document is null)
        {
            document = parsed;
        }
        else
        {
            (moreDocuments ??= []).Add(parsed);
        }
    }
}

/// <summary>Why a whole request was refused; <see cref="Line"/> and <see cref="BytePositionInLine"/> locate malformed JSON.</summary>
public sealed record BatchError(string Reason, string Detail, long? Line, long? BytePositionInLine);
