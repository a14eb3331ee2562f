using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text.Json;
using Insights.Contracts;
using Insights.Ingest.Admission;
using Insights.Ingest.Masking;
using static Insights.Ingest.Parsing.EventValues;
using static Insights.Ingest.Parsing.FieldReaders;

namespace Insights.Ingest.Parsing;

/// <summary>
/// Maps one client event (Segment-like camelCase JSON) onto the pipeline envelope, or names why it cannot.
/// Unknown fields are ignored, as Segment does, so richer clients (integrations, library info) are not refused.
/// </summary>
/// <remarks>
/// The event id is the client's <c>messageId</c> | <c>event_id</c> (else a UUIDv7) in the key's namespace: <c>pub:</c> for a
/// write key, <c>srv:</c> for a server key (see <see cref="Trust"/>). A write key may send the visitor's own types only
/// (<see cref="Trust.PublicMaySend"/>).
/// Field sources, first present wins: top-level <c>url</c>/<c>referrer</c>/<c>title</c>
/// | <c>context.page.*</c> | (pageview only) <c>properties.*</c>; a URL may be given as <c>path</c> + <c>search</c>;
/// <c>context.campaign</c> | the page URL's <c>utm_*</c> query parameters. <c>context.ip</c> and <c>context.userAgent</c>
/// count only for server keys: a browser's write key is public, and must not let a visitor choose its IP.
/// <para>
/// Identify, chat and order fields are top-level camelCase: <c>traits</c> (identify), <c>email</c> (or
/// <c>traits.email</c>), <c>chatId</c>, <c>agentId</c>, <c>channel</c>, <c>author</c>, <c>text</c>, <c>rating</c>,
/// <c>orderId</c>, <c>total</c> | <c>amount</c>, <c>currency</c>, <c>coupon</c>; order items stay in <c>properties</c>.
/// An e-mail address becomes <see cref="PipelineEvent.EmailHash"/> and is never kept; a chat message's text is
/// card-masked here (site rules on keeping it at all are <see cref="PersonalDataPolicy"/>'s).
/// </para>
/// </remarks>
internal sealed partial class EventMapper(IngestOptions options)
{
    private readonly int maxIdLength = options.MaxIdentifierLength;
    private readonly TimeSpan maxFutureSkew = options.MaxFutureSkew;
    private readonly TimeSpan maxPastAge = options.MaxPastAge;

    public bool TryMap(JsonElement json, in IngestRequestContext request, DateTimeOffset? batchSentAt,
        [NotNullWhen(true)] out PipelineEvent? mapped, out FieldFailure failure)
    {
        mapped = null;
        failure = default;
        if (json.ValueKind != JsonValueKind.Object)
        {
            return Fail(out failure, RejectReasons.NotAnObject, $"an event must be a JSON object, got {Describe(json.ValueKind)}");
        }

        var raw = Collect(json);
        string? type;
        if (raw.Type.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            // Segment's single-call routes name the type in the path; their bodies may leave it out.
            if ((type = request.ImpliedType) is null)
            {
                return Fail(out failure, RejectReasons.MissingType, "\"type\" is required: \"pageview\" (or \"page\") or \"track\"");
            }
        }
        else if ((type = ResolveType(raw.Type)) is null)
        {
            return Fail(out failure, RejectReasons.UnknownType,
                raw.Type.ValueKind == JsonValueKind.String
                    ? "\"type\" must be one of " + KnownTypesList
                    : $"\"type\" must be a string, got {Describe(raw.Type.ValueKind)}");
        }
        else if (request.ImpliedType is { } implied && !string.Equals(type, implied, StringComparison.Ordinal))
        {
            return Fail(out failure, RejectReasons.InvalidField,
                $"\"type\" is \"{type}\" but the route takes {implied} events; send mixed types to /v1/batch");
        }

        // Before any other rule: a public key's order is refused for what it is, not for a missing field.
        if (request.KeyKind != KeyKind.Server && !Trust.PublicMaySend(type))
        {
            return Fail(out failure, RejectReasons.NeedsServerKey, Trust.NeedsServerKeyDetail(type));
        }

        if (raw.Properties.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.Object))
        {
            return Fail(out failure, RejectReasons.InvalidField, $"\"properties\" must be an object, got {Describe(raw.Properties.ValueKind)}");
        }

        if (raw.Properties.ValueKind == JsonValueKind.Object && !IsWritable(raw.Properties))
        {
            return Fail(out failure, RejectReasons.InvalidField, "\"properties\" holds an invalid Unicode escape (a lone surrogate such as \\ud800)");
        }

        var fields = new Fields { Properties = raw.Properties.ValueKind == JsonValueKind.Object ? raw.Properties : null };
        if (!ReadIdentifiers(raw, ref fields, out failure)
            || !ReadSource(raw.Source, ref fields, out failure)
            || (type is not (EventTypes.Pageview or EventTypes.Track or EventTypes.Screen or EventTypes.Group) && !TryEmail(raw.Email, "email", ref fields, out failure))
            || !ReadPage(raw, ref fields, out failure)
            || !ReadContext(raw.Context, request.KeyKind, ref fields, out failure)
            || !ApplyTypeRules(type, raw, ref fields, out failure))
        {
            return false;
        }

        // Page views, custom events and identify are about a visitor. Chat and order events are about their chat or
        // order (required above); the person is optional there: a refund job or a WhatsApp chat may not know the visitor.
        if (fields.AnonymousId is null && fields.UserId is null && IsAboutAVisitor(type))
        {
            return Fail(out failure, RejectReasons.MissingAnonymousId, "\"anonymousId\" (or \"userId\") is required: events are counted per visitor");
        }

        // RudderStack's SDKs send the time of the call as "originalTimestamp" (and "sentAt"), Segment's as "timestamp".
        var (timestampValue, timestampField) = raw.Timestamp.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null && raw.OriginalTimestamp.ValueKind != JsonValueKind.Undefined
            ? (raw.OriginalTimestamp, "originalTimestamp")
            : (raw.Timestamp, "timestamp");
        if (!TryTimestamp(timestampValue, timestampField, out var timestamp, out failure)
            || !TryTimestamp(raw.SentAt, "sentAt", out var sentAt, out failure))
        {
            return false;
        }

        var (happened, clamped) = TimestampPolicy.Resolve(timestamp, sentAt ?? batchSentAt, request.ReceivedAt, maxFutureSkew, maxPastAge);
        var utm = fields.Campaign ?? UtmParameters.FromUrl(fields.Url);
        mapped = new PipelineEvent
        {
            // Namespaced by the key kind, so a client's "shopify:order:1" is "pub:shopify:order:1" and replaces nothing a
            // webhook wrote; a retry of the same messageId is still the same id.
            EventId = string.Concat(Trust.IdPrefix(Trust.Of(request.KeyKind)), fields.EventId ?? Guid.CreateVersion7(request.ReceivedAt).ToString()),
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
            Properties = fields.Properties,
            Source = fields.Source ?? EventSources.Api,
            EmailHash = fields.EmailHash,
            ChatId = fields.ChatId,
            AgentId = fields.AgentId,
            Channel = fields.Channel,
            MessageAuthor = fields.MessageAuthor,
            MessageText = fields.MessageText,
            Rating = fields.Rating,
            OrderId = fields.OrderId,
            Amount = fields.Amount,
            Currency = fields.Currency,
            Coupon = fields.Coupon,
            PreviousId = fields.PreviousId,
        };
        return true;
    }

    // ---- Shared envelope.

    private bool ReadIdentifiers(in RawEvent raw, ref Fields fields, out FieldFailure failure) =>
        TryString(raw.MessageId, "messageId", maxIdLength, out fields.EventId, out failure)
        && (fields.EventId is not null || TryString(raw.EventId, "event_id", maxIdLength, out fields.EventId, out failure))
        && TryString(raw.AnonymousId, "anonymousId", maxIdLength, out fields.AnonymousId, out failure)
        && TryString(raw.UserId, "userId", maxIdLength, out fields.UserId, out failure);

    private static bool ReadPage(in RawEvent raw, ref Fields fields, out FieldFailure failure) =>
        TryString(raw.Url, "url", int.MaxValue, out fields.Url, out failure)
        && TryString(raw.Referrer, "referrer", int.MaxValue, out fields.Referrer, out failure)
        && TryString(raw.Title, "title", int.MaxValue, out fields.Title, out failure);

    /// <summary>Fills the page fields still missing from a page object (<c>context.page</c> or a pageview's properties).</summary>
    private static bool ReadPageObject(JsonElement page, string path, bool lenient, ref Fields fields, out FieldFailure failure)
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

    private static bool ReadContext(JsonElement context, KeyKind keyKind, ref Fields fields, out FieldFailure failure)
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

    private static bool ReadScreen(JsonElement screen, ref Fields fields, out FieldFailure failure)
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

    private static bool ReadCampaign(JsonElement campaign, ref Fields fields, out FieldFailure failure)
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
            else if (property.NameEquals("traits"u8)) raw.Traits = property.Value;
            else if (property.NameEquals("chatId"u8)) raw.ChatId = property.Value;
            else if (property.NameEquals("orderId"u8)) raw.OrderId = property.Value;
            else if (property.NameEquals("text"u8)) raw.Text = property.Value;
            else if (property.NameEquals("author"u8)) raw.Author = property.Value;
            else if (property.NameEquals("agentId"u8)) raw.AgentId = property.Value;
            else if (property.NameEquals("channel"u8)) raw.Channel = property.Value;
            else if (property.NameEquals("rating"u8)) raw.Rating = property.Value;
            else if (property.NameEquals("total"u8)) raw.Total = property.Value;
            else if (property.NameEquals("amount"u8)) raw.Amount = property.Value;
            else if (property.NameEquals("currency"u8)) raw.Currency = property.Value;
            else if (property.NameEquals("coupon"u8)) raw.Coupon = property.Value;
            else if (property.NameEquals("email"u8)) raw.Email = property.Value;
            else if (property.NameEquals("source"u8)) raw.Source = property.Value;
            else if (property.NameEquals("name"u8)) raw.Name = property.Value;
            else if (property.NameEquals("groupId"u8)) raw.GroupId = property.Value;
            else if (property.NameEquals("previousId"u8)) raw.PreviousId = property.Value;
            else if (property.NameEquals("category"u8)) raw.Category = property.Value;
            else if (property.NameEquals("originalTimestamp"u8)) raw.OriginalTimestamp = property.Value;
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


    private static bool ReadSource(JsonElement source, ref Fields fields, out FieldFailure failure)
    {
        if (!TryString(source, "source", 32, out var text, out failure) || text is null)
        {
            return failure.Reason is null;
        }

        // A platform's name is earned by its webhook's signature, never claimed in a body: attribution may trust a
        // shop's own order notification more than a client's.
        if (!IsSlug(text) || EventSources.Webhooks.Contains(text))
        {
            return Fail(out failure, RejectReasons.InvalidField,
                "\"source\" names the sender (\"tracker\", \"api\", ...): lower-case letters, digits, '_', '-' or '.'; livechat, shopify and woocommerce are set by their webhooks");
        }

        fields.Source = text;
        return true;
    }

    private struct RawEvent
    {
        public JsonElement Type, MessageId, EventId, AnonymousId, UserId, Timestamp, SentAt, Event, Properties, Context, Url, Referrer, Title;
        public JsonElement Traits, Source, Email, ChatId, AgentId, Channel, Author, Text, Rating, OrderId, Total, Amount, Currency, Coupon;
        public JsonElement Name, GroupId, PreviousId, Category, OriginalTimestamp;
    }

    private struct Fields
    {
        public string? EventId, AnonymousId, UserId, Name, Url, Referrer, Title, Locale, Ip, UserAgent;
        public int? ScreenWidth, ScreenHeight;
        public JsonElement? Properties;
        public string? Source, EmailHash, ChatId, AgentId, Channel, MessageAuthor, MessageText, OrderId, Currency, Coupon, PreviousId;
        public int? Rating;
        public decimal? Amount;
        public UtmParameters? Campaign;
    }
}
