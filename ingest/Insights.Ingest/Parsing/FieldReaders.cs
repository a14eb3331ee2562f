using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Insights.Ingest.Parsing;

/// <summary>Readers of one JSON value each: they return false with the failure set; an absent or null value is "not given".</summary>
internal static class FieldReaders
{
    internal static bool TryString(JsonElement value, string field, int maxLength, out string? text, out FieldFailure failure)
    {
        failure = default;
        text = null;
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return true;
            case JsonValueKind.String:
                try
                {
                    text = value.GetString();
                }
                catch (InvalidOperationException)
                {
                    // The body is valid UTF-8 (checked per request), so this is an escaped lone surrogate ("\ud800").
                    return Fail(out failure, RejectReasons.InvalidField, $"\"{field}\" is not a valid Unicode string (a lone surrogate escape)");
                }

                if (string.IsNullOrEmpty(text))
                {
                    text = null;
                    return true;
                }

                return text.Length <= maxLength
                    || Fail(out failure, RejectReasons.InvalidField, $"\"{field}\" is longer than {maxLength} characters");
            default:
                return Fail(out failure, RejectReasons.InvalidField, $"\"{field}\" must be a string, got {Describe(value.ValueKind)}");
        }
    }

    internal static bool TryTimestamp(JsonElement value, string field, out DateTimeOffset? timestamp, out FieldFailure failure)
    {
        failure = default;
        timestamp = null;
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return true;
            case JsonValueKind.String when TryReadInstant(value, out var instant):
                timestamp = instant;
                return true;
            case JsonValueKind.String:
                return Fail(out failure, RejectReasons.InvalidTimestamp, $"\"{field}\" must be an ISO 8601 date-time such as 2025-01-31T12:00:00.000Z");
            default:
                return Fail(out failure, RejectReasons.InvalidField, $"\"{field}\" must be an ISO 8601 string, got {Describe(value.ValueKind)}");
        }
    }

    /// <summary>An ISO 8601 string as a UTC instant; without an offset it is UTC (what JavaScript's toISOString means).</summary>
    internal static bool TryReadInstant(JsonElement value, out DateTimeOffset instant)
    {
        if (value.ValueKind != JsonValueKind.String || !value.TryGetDateTimeOffset(out var parsed))
        {
            instant = default;
            return false;
        }

        // TryGetDateTimeOffset gives an offset-less time the machine's local offset; a DateTime parse tells whether
        // the offset was written (Kind Unspecified when not). Only strings not ending in Z pay for the second parse.
        var raw = JsonMarshal.GetRawUtf8Value(value);
        if (raw is not [.., (byte)'Z' or (byte)'z', (byte)'"'] && value.TryGetDateTime(out var plain) && plain.Kind == DateTimeKind.Unspecified)
        {
            instant = new DateTimeOffset(plain, TimeSpan.Zero);
            return true;
        }

        instant = parsed.ToUniversalTime();
        return true;
    }

    internal static bool TryDimension(JsonElement value, string field, out int? dimension, out FieldFailure failure)
    {
        failure = default;
        dimension = null;
        if (value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var pixels) && pixels is >= 0 and <= ushort.MaxValue)
        {
            dimension = pixels;
            return true;
        }

        return Fail(out failure, RejectReasons.InvalidField, $"\"{field}\" must be a whole number of pixels from 0 to {ushort.MaxValue}");
    }

    internal static bool TryIp(JsonElement value, out string? ip, out FieldFailure failure)
    {
        if (!TryString(value, "context.ip", 64, out var text, out failure))
        {
            ip = null;
            return false;
        }

        if (text is null)
        {
            ip = null;
            return true;
        }

        if (!IPAddress.TryParse(text, out var address))
        {
            ip = null;
            return Fail(out failure, RejectReasons.InvalidField, "\"context.ip\" must be an IPv4 or IPv6 address");
        }

        ip = Network.ClientIpResolver.Normalize(address).ToString();
        return true;
    }

    internal static bool Fail(out FieldFailure failure, string reason, string detail)
    {
        failure = new FieldFailure(reason, detail);
        return false;
    }

    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

}

/// <summary>Why a field (and so its event) was refused: a <see cref="RejectReasons"/> name and a sentence for people.</summary>
public readonly record struct FieldFailure(string Reason, string Detail);
