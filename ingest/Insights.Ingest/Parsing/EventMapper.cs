using System.Buffers;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using Insights.Contracts;
using Insights.Ingest.Masking;

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
/// <para>
/// Identify, chat and order fields are top-level camelCase: <c>traits</c> (identify), <c>email</c> (or
/// <c>traits.email</c>), <c>chatId</c>, <c>agentId</c>, <c>channel</c>, <c>author</c>, <c>text</c>, <c>rating</c>,
/// <c>orderId</c>, <c>total</c> | <c>amount</c>, <c>currency</c>, <c>coupon</c>; order items stay in <c>properties</c>.
/// An e-mail address becomes <see cref="PipelineEvent.EmailHash"/> and is never kept; a chat message's text is
/// card-masked here (site rules on keeping it at all are <see cref="ChatTextPolicy"/>'s).
/// </para>
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
                    ? "\"type\" must be one of " + KnownTypesList
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

        var fields = new Fields { Properties = raw.Properties.ValueKind == JsonValueKind.Object ? raw.Properties : null };
        if (!ReadIdentifiers(raw, ref fields, out failure)
            || !ReadSource(raw.Source, ref fields, out failure)
            || (type is not (EventTypes.Pageview or EventTypes.Track) && !TryEmail(raw.Email, "email", ref fields, out failure))
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
        };
        return true;
    }

    // ---- The event types: the one place that knows what each type requires. A new type adds a name to ResolveType
    // and a case to ApplyTypeRules; everything else is shared envelope.

    private const string KnownTypesList =
        "\"pageview\" (or \"page\"), \"track\", \"identify\", \"chat_started\", \"chat_message\", \"chat_ended\", \"chat_rated\", " +
        "\"order\", \"order_refunded\" or \"order_cancelled\"";

    private static string? ResolveType(JsonElement type) =>
        type.ValueKind != JsonValueKind.String ? null
        : type.ValueEquals("pageview"u8) || type.ValueEquals("page"u8) ? EventTypes.Pageview
        : type.ValueEquals("track"u8) ? EventTypes.Track
        : type.ValueEquals("identify"u8) ? EventTypes.Identify
        : type.ValueEquals("chat_message"u8) ? EventTypes.ChatMessage
        : type.ValueEquals("chat_started"u8) ? EventTypes.ChatStarted
        : type.ValueEquals("chat_ended"u8) ? EventTypes.ChatEnded
        : type.ValueEquals("chat_rated"u8) ? EventTypes.ChatRated
        : type.ValueEquals("order"u8) ? EventTypes.Order
        : type.ValueEquals("order_refunded"u8) ? EventTypes.OrderRefunded
        : type.ValueEquals("order_cancelled"u8) ? EventTypes.OrderCancelled
        : null;

    private static bool IsAboutAVisitor(string type) => type is EventTypes.Pageview or EventTypes.Track or EventTypes.Identify;

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

            case EventTypes.Identify:
                return ReadTraits(raw, ref fields, out failure);

            case EventTypes.ChatStarted or EventTypes.ChatEnded:
                return ReadChat(raw, ref fields, out failure);

            case EventTypes.ChatMessage:
                if (!ReadChat(raw, ref fields, out failure)
                    || !TryString(raw.Author, "author", 32, out var author, out failure)
                    || !TryString(raw.Text, "text", int.MaxValue, out var text, out failure))
                {
                    return false;
                }

                if (author is not null && (fields.MessageAuthor = NormalizeAuthor(author)) is null)
                {
                    return Fail(out failure, RejectReasons.InvalidField, "\"author\" must be \"visitor\", \"agent\", \"bot\" or \"system\"");
                }

                // Masked before anything else can see it: no card number leaves the mapper, whatever the site keeps.
                fields.MessageText = text is null ? null : CardNumberMasker.Mask(text);
                return true;

            case EventTypes.ChatRated:
                return ReadChat(raw, ref fields, out failure) && ReadRating(raw.Rating, ref fields, out failure);

            case EventTypes.Order:
                return ReadOrder(raw, ref fields, amountRequired: true, out failure)
                    && TryString(raw.Coupon, "coupon", maxIdLength, out fields.Coupon, out failure);

            case EventTypes.OrderRefunded:
                if (!ReadOrder(raw, ref fields, amountRequired: true, out failure))
                {
                    return false;
                }

                return fields.Amount > 0
                    || Fail(out failure, TypeRejectReasons.InvalidAmount, "an order_refunded needs the amount refunded, more than 0");

            case EventTypes.OrderCancelled:
                return ReadOrder(raw, ref fields, amountRequired: false, out failure);

            default:
                throw new InvalidOperationException($"ResolveType returned '{type}' without a rule for it.");
        }
    }

    /// <summary>identify: <c>traits</c> become the properties, without the e-mail address, which becomes its hash.</summary>
    private static bool ReadTraits(in RawEvent raw, ref Fields fields, out Failure failure)
    {
        failure = default;
        var traits = raw.Traits;
        if (traits.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.Object))
        {
            return Fail(out failure, RejectReasons.InvalidField, $"\"traits\" must be an object, got {Describe(traits.ValueKind)}");
        }

        if (traits.ValueKind != JsonValueKind.Object)
        {
            return true;
        }

        if (!IsWritable(traits))
        {
            return Fail(out failure, RejectReasons.InvalidField, "\"traits\" holds an invalid Unicode escape (a lone surrogate such as \\ud800)");
        }

        if (!traits.TryGetProperty("email"u8, out var email))
        {
            fields.Properties = traits;
            return true;
        }

        if (fields.EmailHash is null && !TryEmail(email, "traits.email", ref fields, out failure))
        {
            return false;
        }

        // The address is the one trait kept out: its hash joins the person across sources, and the address itself
        // would otherwise sit in every identify row for the retention period.
        fields.Properties = Without(traits, "email"u8);
        return true;
    }

    private bool ReadChat(in RawEvent raw, ref Fields fields, out Failure failure)
    {
        if (!TryString(raw.ChatId, "chatId", maxIdLength, out fields.ChatId, out failure)
            || !TryString(raw.AgentId, "agentId", maxIdLength, out fields.AgentId, out failure)
            || !TryString(raw.Channel, "channel", 64, out var channel, out failure))
        {
            return false;
        }

        if (fields.ChatId is null)
        {
            return Fail(out failure, TypeRejectReasons.MissingChatId, "chat events need \"chatId\", the conversation's id in the chat platform");
        }

        return channel is null
            || (fields.Channel = NormalizeChannel(channel)) is not null
            || Fail(out failure, TypeRejectReasons.InvalidChannel,
                "\"channel\" must be a short name such as website, whatsapp, messenger, apple_messages, sms or email (letters, digits, '_')");
    }

    private static bool ReadRating(JsonElement rating, ref Fields fields, out Failure failure)
    {
        failure = default;
        switch (rating.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return Fail(out failure, TypeRejectReasons.MissingRating, "a chat_rated needs \"rating\": \"good\" or \"bad\", or a score from 0 to 10");
            case JsonValueKind.Number when rating.TryGetInt32(out var score) && score is >= 0 and <= MaxRating:
                fields.Rating = score;
                return true;
            case JsonValueKind.True or JsonValueKind.False:
                fields.Rating = rating.ValueKind == JsonValueKind.True ? 1 : 0;
                return true;
            case JsonValueKind.String when RatingWord(rating) is { } word:
                fields.Rating = word;
                return true;
            default:
                return Fail(out failure, TypeRejectReasons.InvalidRating, "\"rating\" must be \"good\" or \"bad\" (1 or 0), or a whole score from 0 to 10");
        }
    }

    private static int? RatingWord(JsonElement rating) =>
        rating.ValueEquals("good"u8) || rating.ValueEquals("rated_good"u8) || rating.ValueEquals("rated good"u8) ? 1
        : rating.ValueEquals("bad"u8) || rating.ValueEquals("rated_bad"u8) || rating.ValueEquals("rated bad"u8) ? 0
        : null;

    private bool ReadOrder(in RawEvent raw, ref Fields fields, bool amountRequired, out Failure failure)
    {
        if (!TryString(raw.OrderId, "orderId", maxIdLength, out fields.OrderId, out failure))
        {
            return false;
        }

        if (fields.OrderId is null)
        {
            return Fail(out failure, TypeRejectReasons.MissingOrderId, "order events need \"orderId\", the shop's order id");
        }

        var total = raw.Total.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? raw.Amount : raw.Total;
        if (!TryAmount(total, raw.Total.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? "amount" : "total", out fields.Amount, out failure)
            || !TryString(raw.Currency, "currency", 16, out var currency, out failure))
        {
            return false;
        }

        if (fields.Amount is null && amountRequired)
        {
            return Fail(out failure, TypeRejectReasons.MissingAmount, "order events need \"total\" (or \"amount\"): the money, as a number in \"currency\"");
        }

        if (currency is null)
        {
            return fields.Amount is null
                || Fail(out failure, TypeRejectReasons.MissingCurrency, "an amount needs its \"currency\", an ISO 4217 code such as EUR or USD");
        }

        return (fields.Currency = NormalizeCurrency(currency)) is not null
            || Fail(out failure, TypeRejectReasons.InvalidCurrency, $"\"currency\" must be an ISO 4217 code such as EUR or USD, got \"{Truncate(currency)}\"");
    }

    private static bool ReadSource(JsonElement source, ref Fields fields, out Failure failure)
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

    private static bool TryEmail(JsonElement value, string field, ref Fields fields, out Failure failure)
    {
        if (!TryString(value, field, 320, out var email, out failure))
        {
            return false;
        }

        return email is null
            || (fields.EmailHash = EmailHash.Of(email)) is not null
            || Fail(out failure, TypeRejectReasons.InvalidEmail, $"\"{field}\" must be an e-mail address");
    }

    /// <summary>A copy of an object without one property, owned by no pooled document (it outlives the request's).</summary>
    private static JsonElement Without(JsonElement value, ReadOnlySpan<byte> name)
    {
        var buffer = new ArrayBufferWriter<byte>(JsonMarshal.GetRawUtf8Value(value).Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in value.EnumerateObject())
            {
                if (!property.NameEquals(name))
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    // ---- Values shared with the webhooks (Webhooks/), so a platform's order obeys the same rules as the API's.

    /// <summary>Largest amount accepted: a trillion in any currency is a typo or an attack, not an order.</summary>
    internal const decimal MaxAmount = 1_000_000_000_000m;

    private const int MaxRating = 10;

    /// <summary>A money amount: a JSON number or a numeric string (Shopify and WooCommerce send "409.94"), 0 or more.</summary>
    internal static bool TryAmount(JsonElement value, string field, out decimal? amount, out Failure failure)
    {
        failure = default;
        amount = null;
        decimal parsed;
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return true;
            case JsonValueKind.Number when value.TryGetDecimal(out parsed):
                break;
            case JsonValueKind.String when TryParseAmount(value.GetString(), allowNegative: false, out parsed):
                break;
            default:
                return Fail(out failure, TypeRejectReasons.InvalidAmount, $"\"{field}\" must be a number of 0 or more (or a numeric string), below {MaxAmount:0}");
        }

        if (parsed is < 0 or >= MaxAmount)
        {
            return Fail(out failure, TypeRejectReasons.InvalidAmount, $"\"{field}\" must be a number of 0 or more, below {MaxAmount:0}");
        }

        amount = RoundAmount(parsed);
        return true;
    }

    /// <summary>A decimal string with '.' as the point ("12.50", "-10.00" when negatives are allowed); no exponents or grouping.</summary>
    internal static bool TryParseAmount(string? text, bool allowNegative, out decimal amount)
    {
        var styles = NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite
            | (allowNegative ? NumberStyles.AllowLeadingSign : NumberStyles.None);
        return decimal.TryParse(text, styles, CultureInfo.InvariantCulture, out amount) && amount > -MaxAmount && amount < MaxAmount;
    }

    /// <summary>Four decimal places: every currency's minor unit fits, and float noise from JavaScript totals (19.990000000000002) goes.</summary>
    internal static decimal RoundAmount(decimal amount) => Math.Round(amount, 4, MidpointRounding.ToEven);

    /// <summary>The upper-case ISO 4217 code, or null when <paramref name="code"/> is not one.</summary>
    internal static string? NormalizeCurrency(string? code)
    {
        if (code is null || code.Trim() is not { Length: 3 } trimmed)
        {
            return null;
        }

        var upper = trimmed.ToUpperInvariant();
        return Currencies.TryGetValue(upper, out var known) ? known : null;
    }

    /// <summary>The channel's canonical name (aliases such as "wa", "fb_messenger" or "imessage" folded), or null when it is not a name.</summary>
    internal static string? NormalizeChannel(string channel)
    {
        var slug = channel.Trim().ToLowerInvariant().Replace(' ', '_').Replace('-', '_');
        if (slug.Length is 0 or > 32 || !IsSlug(slug) || slug.Contains('.', StringComparison.Ordinal))
        {
            return null;
        }

        return ChannelAliases.TryGetValue(slug, out var canonical) ? canonical : slug;
    }

    /// <summary>visitor, agent, bot or system (with their common synonyms), or null.</summary>
    internal static string? NormalizeAuthor(string author) => author.Trim().ToLowerInvariant() switch
    {
        "visitor" or "customer" or "user" or "client" or "contact" => MessageAuthors.Visitor,
        "agent" or "operator" or "staff" or "human" => MessageAuthors.Agent,
        "bot" or "chatbot" or "ai" or "assistant" => MessageAuthors.Bot,
        "system" => MessageAuthors.System,
        _ => null,
    };

    private static bool IsSlug(string text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-' or '.'))
            {
                return false;
            }
        }

        return text.Length > 0;
    }

    private static string Truncate(string text) => text.Length <= 16 ? text : text[..16] + "…";

    private static readonly FrozenDictionary<string, string> ChannelAliases = Aliases(
        (ChatChannels.Website, ["website", "web", "widget", "chat_widget", "web_chat", "webchat", "livechat", "site"]),
        (ChatChannels.WhatsApp, ["whatsapp", "wa", "whatsapp_business"]),
        (ChatChannels.Messenger, ["messenger", "facebook", "facebook_messenger", "fb_messenger", "fb"]),
        (ChatChannels.AppleMessages, ["apple_messages", "apple_messages_for_business", "apple_business_chat", "imessage", "abc"]),
        (ChatChannels.Sms, ["sms", "text", "mms", "twilio"]),
        (ChatChannels.Email, ["email", "e_mail", "mail"]),
        ("instagram", ["instagram", "ig", "instagram_direct"]));

    private static FrozenDictionary<string, string> Aliases(params (string Channel, string[] Names)[] channels) =>
        channels.SelectMany(channel => channel.Names.Select(name => (Name: name, channel.Channel)))
            .ToFrozenDictionary(alias => alias.Name, alias => alias.Channel, StringComparer.Ordinal);

    // ISO 4217 codes in use, plus those withdrawn since 2020 (HRK, SLL, CUC, ANG, ZWL) so that replayed older orders
    // still pass. Funds, metals and testing codes (XAU, XTS, XXX, ...) are not prices.
    private static readonly FrozenDictionary<string, string> Currencies = """
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
        CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL
        HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
        MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
        RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
        TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
        """.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).ToFrozenDictionary(code => code, code => code, StringComparer.Ordinal);

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
        public JsonElement Traits, Source, Email, ChatId, AgentId, Channel, Author, Text, Rating, OrderId, Total, Amount, Currency, Coupon;
    }

    private struct Fields
    {
        public string? EventId, AnonymousId, UserId, Name, Url, Referrer, Title, Locale, Ip, UserAgent;
        public int? ScreenWidth, ScreenHeight;
        public JsonElement? Properties;
        public string? Source, EmailHash, ChatId, AgentId, Channel, MessageAuthor, MessageText, OrderId, Currency, Coupon;
        public int? Rating;
        public decimal? Amount;
        public UtmParameters? Campaign;
    }
}

/// <summary>
/// Reasons of the per-type rules (identify, chats, orders), stable on the wire and metric tags like
/// <see cref="RejectReasons"/>, which holds the envelope's.
/// </summary>
public static class TypeRejectReasons
{
    public const string MissingChatId = "missing_chat_id";
    public const string InvalidChannel = "invalid_channel";
    public const string MissingRating = "missing_rating";
    public const string InvalidRating = "invalid_rating";
    public const string MissingOrderId = "missing_order_id";
    public const string MissingAmount = "missing_amount";
    public const string InvalidAmount = "invalid_amount";
    public const string MissingCurrency = "missing_currency";
    public const string InvalidCurrency = "invalid_currency";
    public const string InvalidEmail = "invalid_email";
}

/// <summary>Values of <see cref="PipelineEvent.Source"/>: who sent the event.</summary>
public static class EventSources
{
    /// <summary>POST /v1/events when the body does not say (the tracker says "tracker").</summary>
    public const string Api = "api";
    public const string Tracker = "tracker";
    public const string LiveChat = "livechat";
    public const string Shopify = "shopify";
    public const string WooCommerce = "woocommerce";

    /// <summary>Set only by a verified webhook: a body cannot claim them.</summary>
    public static readonly FrozenSet<string> Webhooks = FrozenSet.Create(StringComparer.Ordinal, LiveChat, Shopify, WooCommerce);
}

/// <summary>Canonical values of <see cref="PipelineEvent.Channel"/>; other channels keep their own lower-case name.</summary>
public static class ChatChannels
{
    public const string Website = "website";
    public const string WhatsApp = "whatsapp";
    public const string Messenger = "messenger";
    public const string AppleMessages = "apple_messages";
    public const string Sms = "sms";
    public const string Email = "email";
}

/// <summary>Values of <see cref="PipelineEvent.MessageAuthor"/>.</summary>
public static class MessageAuthors
{
    public const string Visitor = "visitor";
    public const string Agent = "agent";
    public const string Bot = "bot";
    public const string System = "system";
}
