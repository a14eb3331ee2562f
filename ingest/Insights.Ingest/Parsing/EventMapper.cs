using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using Insights.Contracts;

namespace Insights.Ingest.Parsing;

/// <summary>
/// Maps one client event (Segment-like camelCase JSON) onto the pipeline envelope, or names why it cannot.
/// Unknown fields are ignored, as Segment does, so richer clients (integrations, library info) are not refused.
/// </summary>
/// <remarks>
/// Field sources, first present wins: <c>messageId</c> | <c>event_id</c>; top-level <c>url</c>/<c>referrer</c>/<c>title</c>
/// | <c>context.page.*</c> | (pageview only) <c>properties.*</c>; a URL may be given as <c>path</c> + <c>search</c>;
/// <c>context.campaign</c> | the page URL's <c>utm_*</c> query parameters. <c>context.ip</c> and <c>context.userAgent</c>
/// count only for server keys: a browser's write key is public, and must not let a visitor choose its IP.
/// </remarks>
internal sealed class EventMapper(IngestOptions options)
{
    private readonly int maxIdLength = options.MaxIdentifierLength;
    private readonly TimeSpan maxFutureSkew = options.MaxFutureSkew;
    private readonly TimeSpan maxPastAge = options.MaxPastAge;

    public bool TryMap(JsonElement json, in IngestRequestContext request, DateTimeOffset? batchSentAt,
        [NotNullWhen(true)] out PipelineEvent? mapped, out Failure failure)
    {
        mapped = null;
        failure = default;
        if (json.ValueKind != JsonValueKind.Object)
        {
            return Fail(out failure, RejectReasons.NotAnObject, $"an event must be a JSON object, got {Describe(json.ValueKind)}");
        }

        var raw = Collect(json);
        if (raw.Type.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return Fail(out failure, RejectReasons.MissingType, "\"type\" is required: \"pageview\" (or \"page\") or \"track\"");
        }

        if (ResolveType(raw.Type) is not { } type)
        {
            return Fail(out failure, RejectReasons.UnknownType,
                raw.Type.ValueKind == JsonValueKind.String
                    ? "\"type\" must be \"pageview\" (or \"page\") or \"track\""
                    : $"\"type\" must be a string, got {Describe(raw.Type.ValueKind)}");
        }

        if (raw.Properties.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.Object))
        {
            return Fail(out failure, RejectReasons.InvalidField, $"\"properties\" must be an object, got {Describe(raw.Properties.ValueKind)}");
        }

        if (raw.Properties.ValueKind == JsonValueKind.Object && !IsWritable(raw.Properties))
        {
            return Fail(out failure, RejectReasons.InvalidField, "\"properties\" holds an invalid Unicode escape (a lone surrogate such as \\ud800)");
        }

        var fields = new Fields();
        if (!ReadIdentifiers(raw, ref fields, out failure)
            || !ReadPage(raw, ref fields, out failure)
            || !ReadContext(raw.Context, request.KeyKind, ref fields, out failure)
            || !ApplyTypeRules(type, raw, ref fields, out failure))
        {
            return false;
        }

        if (fields.AnonymousId is null && fields.UserId is null)
        {
            return Fail(out failure, RejectReasons.MissingAnonymousId, "\"anonymousId\" (or \"userId\") is required: events are counted per visitor");
        }

        if (!TryTimestamp(raw.Timestamp, "timestamp", out var timestamp, out failure)
            || !TryTimestamp(raw.SentAt, "sentAt", out var sentAt, out failure))
        {
            return false;
        }

        var (happened, clamped) = TimestampPolicy.Resolve(timestamp, sentAt ?? batchSentAt, request.ReceivedAt, maxFutureSkew, maxPastAge);
        var utm = fields.Campaign ?? UtmParameters.FromUrl(fields.Url);
        mapped = new PipelineEvent
        {
            EventId = fields.EventId ?? Guid.CreateVersion7(request.ReceivedAt).ToString(),
            Type = type,
            SiteId = request.SiteId,
            AnonymousId = fields.AnonymousId,
            UserId = fields.UserId,
            Name = fields.Name,
            Timestamp = happened,
            ReceivedAt = request.ReceivedAt,
            TimestampClamped = clamped,
            Ip = fields.Ip ?? request.ClientIp,
            UserAgent = fields.UserAgent ?? request.UserAgent,
            Url = fields.Url,
            Referrer = fields.Referrer,
            Title = fields.Title,
            Locale = fields.Locale,
            ScreenWidth = fields.ScreenWidth,
            ScreenHeight = fields.ScreenHeight,
            UtmSource = utm.Source,
            UtmMedium = utm.Medium,
            UtmCampaign = utm.Campaign,
            UtmTerm = utm.Term,
            UtmContent = utm.Content,
            Properties = raw.Properties.ValueKind == JsonValueKind.Object ? raw.Properties : null,
        };
        return true;
    }

    // ---- The event types: the one place that knows what each type requires. A new type (identify, chat,
    // order) adds a name to ResolveType and a case here; everything else is shared envelope.

    private static string? ResolveType(JsonElement type) =>
        type.ValueKind != JsonValueKind.String ? null
        : type.ValueEquals("pageview"u8) || type.ValueEquals("page"u8) ? EventTypes.Pageview
        : type.ValueEquals("track"u8) ? EventTypes.Track
        : null;

    private bool ApplyTypeRules(string type, in RawEvent raw, ref Fields fields, out Failure failure)
    {
        failure = default;
        switch (type)
        {
            case EventTypes.Pageview:
                // Segment's page call carries the page in properties; the tracker sends it in context.page.
                if (raw.Properties.ValueKind == JsonValueKind.Object && (fields.Url is null || fields.Referrer is null || fields.Title is null))
                {
                    // Properties are the client's own data: a value of another type there is not the page, and not an error.
                    _ = ReadPageObject(raw.Properties, "properties", lenient: true, ref fields, out _);
                }

                return fields.Url is not null
                    || Fail(out failure, RejectReasons.MissingUrl, "a pageview needs the page: \"context.page.url\" (or \"url\", or \"properties.url\")");

            case EventTypes.Track:
                if (!TryString(raw.Event, "event", maxIdLength, out fields.Name, out failure))
                {
                    return false;
                }

                return fields.Name is not null
                    || Fail(out failure, RejectReasons.MissingEventName, "a track event needs \"event\", its name");

            default:
                throw new InvalidOperationException($"ResolveType returned '{type}' without a rule for it.");
        }
    }

    // ---- Shared envelope.

    private bool ReadIdentifiers(in RawEvent raw, ref Fields fields, out Failure failure) =>
        TryString(raw.MessageId, "messageId", maxIdLength, out fields.EventId, out failure)
        && (fields.EventId is not null || TryString(raw.EventId, "event_id", maxIdLength, out fields.EventId, out failure))
        && TryString(raw.AnonymousId, "anonymousId", maxIdLength, out fields.AnonymousId, out failure)
        && TryString(raw.UserId, "userId", maxIdLength, out fields.UserId, out failure);

    private static bool ReadPage(in RawEvent raw, ref Fields fields, out Failure failure) =>
        TryString(raw.Url, "url", int.MaxValue, out fields.Url, out failure)
        && TryString(raw.Referrer, "referrer", int.MaxValue, out fields.Referrer, out failure)
        && TryString(raw.Title, "title", int.MaxValue, out fields.Title, out failure);

    /// <summary>Fills the page fields still missing from a page object (<c>context.page</c> or a pageview's properties).</summary>
    private static bool ReadPageObject(JsonElement page, string path, bool lenient, ref Fields fields, out Failure failure)
    {
        failure = default;
        string? pagePath = null, search = null;
        foreach (var property in page.EnumerateObject())
        {
            var value = property.Value;
            if (lenient && value.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            var ok = property.NameEquals("url"u8) ? fields.Url is not null || TryString(value, path + ".url", int.MaxValue, out fields.Url, out failure)
                : property.NameEquals("referrer"u8) ? fields.Referrer is not null || TryString(value, path + ".referrer", int.MaxValue, out fields.Referrer, out failure)
                : property.NameEquals("title"u8) ? fields.Title is not null || TryString(value, path + ".title", int.MaxValue, out fields.Title, out failure)
                : property.NameEquals("path"u8) ? TryString(value, path + ".path", int.MaxValue, out pagePath, out failure)
                : !property.NameEquals("search"u8) || TryString(value, path + ".search", int.MaxValue, out search, out failure);
            if (!ok)
            {
                return false;
            }
        }

        // Without a URL, the path (and query) is the page: a relative URL still gives reports their path.
        if (fields.Url is null && pagePath is not null)
        {
            fields.Url = search is null ? pagePath : search.StartsWith('?') ? pagePath + search : pagePath + "?" + search;
        }

        return true;
    }

    private static bool ReadContext(JsonElement context, KeyKind keyKind, ref Fields fields, out Failure failure)
    {
        failure = default;
        if (context.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return true;
        }

        if (context.ValueKind != JsonValueKind.Object)
        {
            return Fail(out failure, RejectReasons.InvalidField, $"\"context\" must be an object, got {Describe(context.ValueKind)}");
        }

        var speaksForVisitor = keyKind == KeyKind.Server;
        foreach (var property in context.EnumerateObject())
        {
            var value = property.Value;
            bool ok;
            if (property.NameEquals("page"u8))
            {
                ok = value.ValueKind is JsonValueKind.Null
                    || (value.ValueKind == JsonValueKind.Object
                        ? ReadPageObject(value, "context.page", lenient: false, ref fields, out failure)
                        : Fail(out failure, RejectReasons.InvalidField, $"\"context.page\" must be an object, got {Describe(value.ValueKind)}"));
            }
            else if (property.NameEquals("userAgent"u8))
            {
                ok = !speaksForVisitor || TryString(value, "context.userAgent", int.MaxValue, out fields.UserAgent, out failure);
            }
            else if (property.NameEquals("ip"u8))
            {
                ok = !speaksForVisitor || TryIp(value, out fields.Ip, out failure);
            }
            else if (property.NameEquals("locale"u8))
            {
                ok = TryString(value, "context.locale", 64, out fields.Locale, out failure);
            }
            else if (property.NameEquals("screen"u8))
            {
                ok = ReadScreen(value, ref fields, out failure);
            }
            else
            {
                ok = !property.NameEquals("campaign"u8) || ReadCampaign(value, ref fields, out failure);
            }

            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool ReadScreen(JsonElement screen, ref Fields fields, out Failure failure)
    {
        failure = default;
        if (screen.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (screen.ValueKind != JsonValueKind.Object)
        {
            return Fail(out failure, RejectReasons.InvalidField, $"\"context.screen\" must be an object, got {Describe(screen.ValueKind)}");
        }

        foreach (var property in screen.EnumerateObject())
        {
            var ok = property.NameEquals("width"u8) ? TryDimension(property.Value, "context.screen.width", out fields.ScreenWidth, out failure)
                : !property.NameEquals("height"u8) || TryDimension(property.Value, "context.screen.height", out fields.ScreenHeight, out failure);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool ReadCampaign(JsonElement campaign, ref Fields fields, out Failure failure)
    {
        failure = default;
        if (campaign.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (campaign.ValueKind != JsonValueKind.Object)
        {
            return Fail(out failure, RejectReasons.InvalidField, $"\"context.campaign\" must be an object, got {Describe(campaign.ValueKind)}");
        }

        string? source = null, medium = null, name = null, term = null, content = null;
        foreach (var property in campaign.EnumerateObject())
        {
            var value = property.Value;
            var ok = property.NameEquals("source"u8) ? TryString(value, "context.campaign.source", int.MaxValue, out source, out failure)
                : property.NameEquals("medium"u8) ? TryString(value, "context.campaign.medium", int.MaxValue, out medium, out failure)
                : property.NameEquals("name"u8) ? TryString(value, "context.campaign.name", int.MaxValue, out name, out failure)
                : property.NameEquals("term"u8) ? TryString(value, "context.campaign.term", int.MaxValue, out term, out failure)
                : !property.NameEquals("content"u8) || TryString(value, "context.campaign.content", int.MaxValue, out content, out failure);
            if (!ok)
            {
                return false;
            }
        }

        // A campaign object, even an empty one, is the client's answer: the URL is not consulted.
        fields.Campaign = new UtmParameters(source, medium, name, term, content);
        return true;
    }

    private static RawEvent Collect(JsonElement json)
    {
        var raw = default(RawEvent);
        foreach (var property in json.EnumerateObject())
        {
            // Most frequent first; a name given twice keeps its last value, as JSON.parse does.
            if (property.NameEquals("type"u8)) raw.Type = property.Value;
            else if (property.NameEquals("anonymousId"u8)) raw.AnonymousId = property.Value;
            else if (property.NameEquals("messageId"u8)) raw.MessageId = property.Value;
            else if (property.NameEquals("timestamp"u8)) raw.Timestamp = property.Value;
            else if (property.NameEquals("context"u8)) raw.Context = property.Value;
            else if (property.NameEquals("properties"u8)) raw.Properties = property.Value;
            else if (property.NameEquals("event"u8)) raw.Event = property.Value;
            else if (property.NameEquals("userId"u8)) raw.UserId = property.Value;
            else if (property.NameEquals("sentAt"u8)) raw.SentAt = property.Value;
            else if (property.NameEquals("event_id"u8)) raw.EventId = property.Value;
            else if (property.NameEquals("url"u8)) raw.Url = property.Value;
            else if (property.NameEquals("referrer"u8)) raw.Referrer = property.Value;
            else if (property.NameEquals("title"u8)) raw.Title = property.Value;
        }

        return raw;
    }

    /// <summary>
    /// Whether the properties can be re-encoded: JSON allows "\ud800" (a lone surrogate) but no Unicode string can hold
    /// it, so writing it fails. Only properties with an escape pay for the check; escapes are rare outside ASCII-only encoders.
    /// </summary>
    private static bool IsWritable(JsonElement properties)
    {
        if (JsonMarshal.GetRawUtf8Value(properties).IndexOf("\\u"u8) < 0)
        {
            return true;
        }

        try
        {
            using var writer = new Utf8JsonWriter(Stream.Null);
            properties.WriteTo(writer);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    // ---- Value readers. Each returns false with the failure set; an absent or null value is "not given".

    private static bool TryString(JsonElement value, string field, int maxLength, out string? text, out Failure failure)
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

    private static bool TryTimestamp(JsonElement value, string field, out DateTimeOffset? timestamp, out Failure failure)
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

    private static bool TryDimension(JsonElement value, string field, out int? dimension, out Failure failure)
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

    private static bool TryIp(JsonElement value, out string? ip, out Failure failure)
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

    private static bool Fail(out Failure failure, string reason, string detail)
    {
        failure = new Failure(reason, detail);
        return false;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>Why an event was not mapped: a <see cref="RejectReasons"/> name and a sentence for people.</summary>
    public readonly record struct Failure(string Reason, string Detail);

    private struct RawEvent
    {
        public JsonElement Type, MessageId, EventId, AnonymousId, UserId, Timestamp, SentAt, Event, Properties, Context, Url, Referrer, Title;
    }

    private struct Fields
    {
        public string? EventId, AnonymousId, UserId, Name, Url, Referrer, Title, Locale, Ip, UserAgent;
        public int? ScreenWidth, ScreenHeight;
        public UtmParameters? Campaign;
    }
}
