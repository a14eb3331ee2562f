using System.Text.Json;

namespace Insights.Contracts;

/// <summary>
/// The token readers of the hand-written contract readers (<see cref="EventReader"/>, <see cref="LiveEventReader"/>): each
/// accepts what System.Text.Json's generated contract accepts for a member of its type — a string or null, a number as a
/// number, a date as an ISO 8601 string — and refuses the rest with a <see cref="JsonException"/> naming the field.
/// </summary>
internal static class JsonFields
{
    // Longer than any known event type: such a type is read as it is.
    private const int MaxTypeLength = 32;

    /// <summary>Reads the value's first token: true at an object, false for a value that is JSON null and nothing else.
    /// Default options, as JsonSerializer's: no comments, no trailing commas, depth 64.</summary>
    public static bool Begin(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("the value is empty");
        }

        if (reader.TokenType == JsonTokenType.Null)
        {
            End(ref reader);
            return false;
        }

        return reader.TokenType == JsonTokenType.StartObject
            ? true
            : throw new JsonException($"the value is a JSON {reader.TokenType}, not an object");
    }

    /// <summary>The object (or null) must be the whole value: the reader refuses anything but whitespace after it.</summary>
    public static void End(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.EndObject or JsonTokenType.Null) || reader.Read())
        {
            throw new JsonException("the value is not one complete JSON object");
        }
    }

    public static string? Text(ref Utf8JsonReader reader, string field) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Null => null,
        _ => throw new JsonException($"'{field}' must be a string, not a JSON {reader.TokenType}"),
    };

    /// <summary>A string that repeats across events (a site, a page, a place, a device, a company), handed out once made
    /// (<see cref="Utf8Strings"/>); an escaped one is read as <see cref="Text"/> reads it.</summary>
    public static string? Shared(ref Utf8JsonReader reader, string field)
    {
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || reader.HasValueSequence)
        {
            return Text(ref reader, field);
        }

        if (Utf8Strings.TryGet(reader.ValueSpan, out var known))
        {
            return known;
        }

        // Made by the reader, which refuses invalid UTF-8: only text that passed is ever handed out again.
        var made = reader.GetString()!;
        Utf8Strings.Add(reader.ValueSpan, made);
        return made;
    }

    /// <summary>A known event type as this process's own string (<see cref="EventTypes.Find"/>); any other is read as it is.</summary>
    public static string? KnownType(ref Utf8JsonReader reader)
    {
        Span<char> buffer = stackalloc char[MaxTypeLength];
        return reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= buffer.Length
            && EventTypes.Find(buffer[..reader.CopyString(buffer)]) is { } known
                ? known
                : Text(ref reader, "type");
    }

    public static int? Int(ref Utf8JsonReader reader, string field) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetInt32(out var number) => number,
        JsonTokenType.Null => null,
        _ => throw new JsonException($"'{field}' must be a whole number (32-bit)"),
    };

    public static long? Long(ref Utf8JsonReader reader, string field) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetInt64(out var number) => number,
        JsonTokenType.Null => null,
        _ => throw new JsonException($"'{field}' must be a whole number (64-bit)"),
    };

    public static decimal? Decimal(ref Utf8JsonReader reader, string field) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetDecimal(out var number) => number,
        JsonTokenType.Null => null,
        _ => throw new JsonException($"'{field}' must be a decimal number"),
    };

    public static bool Bool(ref Utf8JsonReader reader, string field) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw new JsonException($"'{field}' must be true or false"),
    };

    public static DateTimeOffset Time(ref Utf8JsonReader reader, string field) =>
        reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var time)
            ? time
            : throw new JsonException($"'{field}' must be an ISO 8601 date and time");
}
