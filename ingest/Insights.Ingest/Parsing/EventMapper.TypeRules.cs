using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Insights.Contracts;
using Insights.Ingest.Masking;
using static Insights.Ingest.Parsing.EventValues;
using static Insights.Ingest.Parsing.FieldReaders;

namespace Insights.Ingest.Parsing;

/// <summary>The event types: the one place that knows what each type requires.</summary>
internal sealed partial class EventMapper
{
    // ---- The event types: the one place that knows what each type requires. A new type adds a name to ResolveType
    // and a case to ApplyTypeRules; everything else is shared envelope.

    private const string KnownTypesList =
        "\"pageview\" (or \"page\"), \"track\", \"identify\", \"chat_started\", \"chat_message\", \"chat_ended\", \"chat_rated\", " +
        "\"order\", \"order_refunded\", \"order_cancelled\", \"screen\", \"group\" or \"alias\"";

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
        : type.ValueEquals("screen"u8) ? EventTypes.Screen
        : type.ValueEquals("group"u8) ? EventTypes.Group
        : type.ValueEquals("alias"u8) ? EventTypes.Alias
        : null;

    /// <summary>The event type a Segment route name stands for (<c>page</c> → pageview), or null for a name that is none.</summary>
    internal static string? TypeOfRoute(string call) => call switch
    {
        "page" => EventTypes.Pageview,
        "track" => EventTypes.Track,
        "identify" => EventTypes.Identify,
        "screen" => EventTypes.Screen,
        "group" => EventTypes.Group,
        "alias" => EventTypes.Alias,
        _ => null,
    };

    private static bool IsAboutAVisitor(string type) =>
        type is EventTypes.Pageview or EventTypes.Track or EventTypes.Identify or EventTypes.Screen or EventTypes.Group or EventTypes.Alias;

    private bool ApplyTypeRules(string type, in RawEvent raw, ref Fields fields, out FieldFailure failure)
    {
        failure = default;
        switch (type)
        {
            case EventTypes.Pageview:
                // A server-side page call names the page ("Pricing"); the name goes where track's event name goes.
                if (!TryString(raw.Name, "name", maxIdLength, out fields.Name, out failure))
                {
                    return false;
                }

                // Segment's page call carries the page in properties; the tracker sends it in context.page.
                if (raw.Properties.ValueKind == JsonValueKind.Object && (fields.Url is null || fields.Referrer is null || fields.Title is null))
                {
                    // Properties are the client's own data: a value of another type there is not the page, and not an error.
                    _ = ReadPageObject(raw.Properties, "properties", lenient: true, ref fields, out _);
                }

                return (fields.Url is not null
                        || Fail(out failure, RejectReasons.MissingUrl, "a pageview needs the page: \"context.page.url\" (or \"url\", or \"properties.url\")"))
                    && ReadCategory(raw, ref fields, out failure);

            case EventTypes.Track:
                if (!TryString(raw.Event, "event", maxIdLength, out fields.Name, out failure))
                {
                    return false;
                }

                return fields.Name is not null
                    || Fail(out failure, RejectReasons.MissingEventName, "a track event needs \"event\", its name");

            case EventTypes.Identify:
                return ReadTraits(raw, ref fields, out failure);

            case EventTypes.Screen:
                // An app screen has no URL: its name is the page, its properties stay the client's own.
                return TryString(raw.Name, "name", maxIdLength, out fields.Name, out failure) && ReadCategory(raw, ref fields, out failure);

            case EventTypes.Group:
                return ReadGroup(raw, ref fields, out failure);

            case EventTypes.Alias:
                if (!TryString(raw.PreviousId, "previousId", maxIdLength, out fields.PreviousId, out failure))
                {
                    return false;
                }

                return (fields.PreviousId is not null
                        || Fail(out failure, TypeRejectReasons.MissingPreviousId, "an alias needs \"previousId\", the id the person had before"))
                    && (fields.UserId is not null
                        || Fail(out failure, TypeRejectReasons.MissingUserId, "an alias needs \"userId\", the id the person has now"));

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

    /// <summary>
    /// A page or screen call's <c>category</c> ("Docs"): Segment's spec puts it beside <c>name</c>, at the top level, where the
    /// envelope has no column for it; it is kept as <c>properties.category</c> (where analytics.js also copies it). A
    /// category already in the properties is the client's own and stays.
    /// </summary>
    private bool ReadCategory(in RawEvent raw, ref Fields fields, out FieldFailure failure)
    {
        if (!TryString(raw.Category, "category", maxIdLength, out var category, out failure))
        {
            return false;
        }

        if (category is not null && !(fields.Properties is { } properties && properties.TryGetProperty("category"u8, out _)))
        {
            fields.Properties = WithProperty(fields.Properties ?? default, "category"u8, category);
        }

        return true;
    }

    /// <summary>identify: <c>traits</c> become the properties, without the e-mail address, which becomes its hash.</summary>
    private static bool ReadTraits(in RawEvent raw, ref Fields fields, out FieldFailure failure)
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

    /// <summary>
    /// group: the account or company the user belongs to. The properties are its traits with <c>groupId</c> beside them,
    /// so the stored row names the company it describes (a company view can join on <c>properties.groupId</c>).
    /// </summary>
    private bool ReadGroup(in RawEvent raw, ref Fields fields, out FieldFailure failure)
    {
        if (!TryString(raw.GroupId, "groupId", maxIdLength, out var groupId, out failure))
        {
            return false;
        }

        if (groupId is null)
        {
            return Fail(out failure, TypeRejectReasons.MissingGroupId, "a group call needs \"groupId\", the account's or company's id");
        }

        var traits = raw.Traits;
        if (traits.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.Object))
        {
            return Fail(out failure, RejectReasons.InvalidField, $"\"traits\" must be an object, got {Describe(traits.ValueKind)}");
        }

        if (traits.ValueKind == JsonValueKind.Object && !IsWritable(traits))
        {
            return Fail(out failure, RejectReasons.InvalidField, "\"traits\" holds an invalid Unicode escape (a lone surrogate such as \\ud800)");
        }

        fields.Properties = WithProperty(traits, "groupId"u8, groupId);
        return true;
    }

    private bool ReadChat(in RawEvent raw, ref Fields fields, out FieldFailure failure)
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

    private static bool ReadRating(JsonElement rating, ref Fields fields, out FieldFailure failure)
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

    private bool ReadOrder(in RawEvent raw, ref Fields fields, bool amountRequired, out FieldFailure failure)
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

    private static bool TryEmail(JsonElement value, string field, ref Fields fields, out FieldFailure failure)
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

    /// <summary>
    /// The object (if any) with <paramref name="name"/> set to <paramref name="text"/>, first; a property of that name is
    /// replaced. A copy owned by no pooled document (it outlives the request's).
    /// </summary>
    private static JsonElement WithProperty(JsonElement value, ReadOnlySpan<byte> name, string text)
    {
        var isObject = value.ValueKind == JsonValueKind.Object;
        var buffer = new ArrayBufferWriter<byte>(isObject ? JsonMarshal.GetRawUtf8Value(value).Length + name.Length + text.Length + 16 : 64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(name, text);
            if (isObject)
            {
                foreach (var property in value.EnumerateObject())
                {
                    if (!property.NameEquals(name))
                    {
                        property.WriteTo(writer);
                    }
                }
            }

            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private const int MaxRating = 10;

}
