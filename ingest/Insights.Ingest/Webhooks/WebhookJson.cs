using System.Buffers;
using System.Net;
using System.Text.Json;
using System.Text.Unicode;
using Insights.Contracts;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Webhooks;

/// <summary>
/// Reading the platforms' JSON (which is theirs, not ours: ids are numbers or strings, absent or null alike) and
/// building envelopes from it under the same rules as <see cref="EventMapper"/>.
/// </summary>
internal static class WebhookJson
{
    /// <summary>The body as a document, or the 400 it deserves (invalid UTF-8, malformed or too deep JSON, not an object).</summary>
    public static JsonDocument? Parse(ReadOnlyMemory<byte> body, WebhookContext context, out WebhookOutcome? refused)
    {
        refused = null;
        // The JSON reader does not check the bytes inside strings; an invalid sequence must not reach Kafka.
        if (!Utf8.IsValid(body.Span))
        {
            refused = WebhookOutcome.Invalid(RejectReasons.InvalidUtf8, "The body is not valid UTF-8.");
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = context.Limits.MaxJsonDepth });
        }
        catch (JsonException error)
        {
            refused = WebhookOutcome.Invalid(RejectReasons.MalformedJson,
                $"line {error.LineNumber + 1}, byte {error.BytePositionInLine}: {EventBatchParser.FirstSentence(error.Message)}");
            return null;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            refused = WebhookOutcome.Invalid(WebhookReasons.InvalidPayload, "The body must be a JSON object.");
            return null;
        }

        return document;
    }

    /// <summary>The property's value, or an undefined element when the value is not an object or has no such property.</summary>
    public static JsonElement Get(this JsonElement value, ReadOnlySpan<byte> name) =>
        value.ValueKind == JsonValueKind.Object && value.TryGetProperty(name, out var found) ? found : default;

    /// <summary>A string value (empty is none), or a number's text (platform ids are often numbers); else null.</summary>
    public static string? Text(this JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() is { Length: > 0 } text ? text : null,
        JsonValueKind.Number => value.GetRawText(),
        _ => null,
    };

    public static IEnumerable<JsonElement> Items(this JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? value.EnumerateArray() : [];

    /// <summary>A required id: present, and no longer than the API allows (ids become Kafka keys and sort keys).</summary>
    public static string Id(this JsonElement value, string field, WebhookContext context) =>
        OptionalId(value, field, context) ?? throw new WebhookPayloadException(WebhookReasons.InvalidPayload, $"\"{field}\" is required");

    public static string? OptionalId(this JsonElement value, string field, WebhookContext context)
    {
        var text = value.Text();
        return text is null || text.Length <= context.Ingest.MaxIdentifierLength
            ? text
            : throw new WebhookPayloadException(RejectReasons.InvalidField, $"\"{field}\" is longer than {context.Ingest.MaxIdentifierLength} characters");
    }

    /// <summary>An ISO 8601 time; without an offset it is UTC (WooCommerce's <c>*_gmt</c> fields).</summary>
    public static DateTimeOffset? Time(this JsonElement value) =>
        value.ValueKind == JsonValueKind.String && FieldReaders.TryReadInstant(value, out var instant) ? instant : null;

    /// <summary>A money amount under the API's rules (a number or numeric string, 0 or more).</summary>
    public static decimal? Amount(this JsonElement value, string field)
    {
        if (!EventValues.TryAmount(value, field, out var amount, out var failure))
        {
            throw new WebhookPayloadException(failure.Reason, failure.Detail);
        }

        return amount;
    }

    public static string Currency(this JsonElement value, string field)
    {
        var code = value.Text() ?? throw new WebhookPayloadException(TypeRejectReasons.MissingCurrency, $"\"{field}\" is required");
        return EventValues.NormalizeCurrency(code)
            ?? throw new WebhookPayloadException(TypeRejectReasons.InvalidCurrency, $"\"{field}\" must be an ISO 4217 code, got \"{(code.Length > 16 ? code[..16] : code)}\"");
    }

    /// <summary>A visitor's address as the platform saw it; unparseable, unspecified (0.0.0.0) or loopback is none.</summary>
    public static string? Ip(string? text) =>
        text is { Length: <= 64 } && IPAddress.TryParse(text, out var address)
        && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any) && !IPAddress.IsLoopback(address)
            ? Network.ClientIpResolver.Normalize(address).ToString()
            : null;

    /// <summary>A user agent, if it is a plausible one (bounded, so a platform field cannot bloat every row).</summary>
    public static string? UserAgent(string? text) => text is { Length: > 0 and <= 1024 } ? text : null;

    /// <summary>A new envelope: the platform's time under the timestamp policy, the receive time, the source.</summary>
    public static PipelineEvent NewEvent(WebhookContext context, string source, string type, string eventId, DateTimeOffset? happened)
    {
        var (timestamp, clamped) = TimestampPolicy.Resolve(happened, null, context.ReceivedAt, context.Ingest.MaxFutureSkew, context.Limits.MaxPastAge);
        return new PipelineEvent
        {
            EventId = eventId,
            Type = type,
            SiteId = context.Site.Id,
            Timestamp = timestamp,
            ReceivedAt = context.ReceivedAt,
            TimestampClamped = clamped,
            Source = source,
        };
    }

    /// <summary>An object written by <paramref name="write"/>, as an element that owns its memory (it outlives the body's document).</summary>
    public static JsonElement Build(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    public static void WriteIfPresent(this Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>Copies a platform value as it is (numbers as numbers, strings as strings), if present.</summary>
    /// <summary>An order's line items as <c>items</c>, each with the named fields the platform gives, at most
    /// <paramref name="maxItems"/> of them (the real count in <c>items_total</c> when cut).</summary>
    public static void WriteItems(this Utf8JsonWriter writer, JsonElement lineItems, int maxItems, params ReadOnlySpan<string> fields)
    {
        if (lineItems.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        writer.WriteStartArray("items");
        var written = 0;
        foreach (var item in lineItems.EnumerateArray())
        {
            if (written++ == maxItems)
            {
                break;
            }

            writer.WriteStartObject();
            foreach (var field in fields)
            {
                writer.CopyIfPresent(field, item.ValueKind == JsonValueKind.Object && item.TryGetProperty(field, out var value) ? value : default);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (lineItems.GetArrayLength() > maxItems)
        {
            writer.WriteNumber("items_total", lineItems.GetArrayLength());
        }
    }

    public static void CopyIfPresent(this Utf8JsonWriter writer, string name, JsonElement value)
    {
        if (value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
        {
            writer.WritePropertyName(name);
            value.WriteTo(writer);
        }
    }
}

/// <summary>A signed payload we cannot map; caught by the platform's Receive and answered 400 with its reason.</summary>
internal sealed class WebhookPayloadException(string reason, string detail) : Exception(detail)
{
    public string Reason { get; } = reason;
}
