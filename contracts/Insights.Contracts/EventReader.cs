using System.Text.Json;
using static Insights.Contracts.JsonFields;

namespace Insights.Contracts;

/// <summary>
/// Reads a <see cref="PipelineEvent"/> from its Kafka value in one forward pass of <see cref="Utf8JsonReader"/>. It
/// accepts exactly what the source-generated contract (<see cref="PipelineEventJson"/>, which still writes the value)
/// accepts — snake_case names matched exactly, unknown fields skipped, the last of a repeated field kept, the required
/// fields present, numbers as numbers, nothing after the object — and refuses the rest with a
/// <see cref="JsonException"/>.
/// </summary>
/// <remarks>
/// Both consumer groups decode every event, so this is on the hottest path there is. The generated reader builds a
/// record with <c>required</c>/<c>init</c> members through its constructor path: every field goes through an
/// <c>object[]</c>, every value-typed one boxed. Here the fields are locals and the record is built once; a known event
/// type is this process's own string. <c>EventCodecTests</c> round-trips a value with every field set, so a field added
/// to <see cref="PipelineEvent"/> and not read here fails there.
/// </remarks>
internal static class EventReader
{
    // The longest field name is 14 characters; anything longer is not ours and is skipped without being read.
    private const int MaxNameLength = 32;

    public static PipelineEvent? Read(ReadOnlySpan<byte> value)
    {
        var reader = new Utf8JsonReader(value);
        if (!Begin(ref reader))
        {
            return null;
        }

        var v = 1;
        string? eventId = null, type = null, siteId = null, anonymousId = null, userId = null, name = null, ip = null, userAgent = null,
            url = null, referrer = null, title = null, locale = null, utmSource = null, utmMedium = null, utmCampaign = null,
            utmTerm = null, utmContent = null, source = null, emailHash = null, chatId = null, agentId = null, channel = null,
            messageAuthor = null, messageText = null, orderId = null, currency = null, coupon = null, previousId = null;
        DateTimeOffset? timestamp = null, receivedAt = null;
        var clamped = false;
        int? screenWidth = null, screenHeight = null, rating = null;
        decimal? amount = null;
        JsonElement? properties = null;
        bool hasEventId = false, hasType = false, hasSiteId = false;

        Span<char> buffer = stackalloc char[MaxNameLength];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ReadOnlySpan<char> field = reader.ValueSpan.Length <= MaxNameLength ? buffer[..reader.CopyString(buffer)]
                : reader.ValueIsEscaped ? reader.GetString() : default;
            reader.Read();
            switch (field)
            {
                case "v": v = Int(ref reader, "v") ?? throw new JsonException("'v' must be a number"); break;
                case "event_id": eventId = Text(ref reader, "event_id"); hasEventId = true; break;
                case "type": type = KnownType(ref reader); hasType = true; break;
                case "site_id": siteId = Text(ref reader, "site_id"); hasSiteId = true; break;
                case "anonymous_id": anonymousId = Text(ref reader, "anonymous_id"); break;
                case "user_id": userId = Text(ref reader, "user_id"); break;
                case "name": name = Text(ref reader, "name"); break;
                case "timestamp": timestamp = Time(ref reader, "timestamp"); break;
                case "received_at": receivedAt = Time(ref reader, "received_at"); break;
                case "timestamp_clamped": clamped = Bool(ref reader, "timestamp_clamped"); break;
                case "ip": ip = Text(ref reader, "ip"); break;
                case "user_agent": userAgent = Text(ref reader, "user_agent"); break;
                case "url": url = Text(ref reader, "url"); break;
                case "referrer": referrer = Text(ref reader, "referrer"); break;
                case "title": title = Text(ref reader, "title"); break;
                case "locale": locale = Text(ref reader, "locale"); break;
                case "screen_width": screenWidth = Int(ref reader, "screen_width"); break;
                case "screen_height": screenHeight = Int(ref reader, "screen_height"); break;
                case "utm_source": utmSource = Text(ref reader, "utm_source"); break;
                case "utm_medium": utmMedium = Text(ref reader, "utm_medium"); break;
                case "utm_campaign": utmCampaign = Text(ref reader, "utm_campaign"); break;
                case "utm_term": utmTerm = Text(ref reader, "utm_term"); break;
                case "utm_content": utmContent = Text(ref reader, "utm_content"); break;
                case "properties": properties = reader.TokenType == JsonTokenType.Null ? null : JsonElement.ParseValue(ref reader); break;
                case "source": source = Text(ref reader, "source"); break;
                case "email_hash": emailHash = Text(ref reader, "email_hash"); break;
                case "chat_id": chatId = Text(ref reader, "chat_id"); break;
                case "agent_id": agentId = Text(ref reader, "agent_id"); break;
                case "channel": channel = Text(ref reader, "channel"); break;
                case "message_author": messageAuthor = Text(ref reader, "message_author"); break;
                case "message_text": messageText = Text(ref reader, "message_text"); break;
                case "rating": rating = Int(ref reader, "rating"); break;
                case "order_id": orderId = Text(ref reader, "order_id"); break;
                case "amount": amount = Decimal(ref reader, "amount"); break;
                case "currency": currency = Text(ref reader, "currency"); break;
                case "coupon": coupon = Text(ref reader, "coupon"); break;
                case "previous_id": previousId = Text(ref reader, "previous_id"); break;
                default: reader.Skip(); break;
            }
        }

        End(ref reader);
        if (!hasEventId || !hasType || !hasSiteId || timestamp is null || receivedAt is null)
        {
            throw new JsonException("the envelope misses a required field: event_id, type, site_id, timestamp and received_at must all be present");
        }

        return new PipelineEvent
        {
            V = v,
            EventId = eventId!,
            Type = type!,
            SiteId = siteId!,
            AnonymousId = anonymousId,
            UserId = userId,
            Name = name,
            Timestamp = timestamp.Value,
            ReceivedAt = receivedAt.Value,
            TimestampClamped = clamped,
            Ip = ip,
            UserAgent = userAgent,
            Url = url,
            Referrer = referrer,
            Title = title,
            Locale = locale,
            ScreenWidth = screenWidth,
            ScreenHeight = screenHeight,
            UtmSource = utmSource,
            UtmMedium = utmMedium,
            UtmCampaign = utmCampaign,
            UtmTerm = utmTerm,
            UtmContent = utmContent,
            Properties = properties,
            Source = source,
            EmailHash = emailHash,
            ChatId = chatId,
            AgentId = agentId,
            Channel = channel,
            MessageAuthor = messageAuthor,
            MessageText = messageText,
            Rating = rating,
            OrderId = orderId,
            Amount = amount,
            Currency = currency,
            Coupon = coupon,
            PreviousId = previousId,
        };
    }
}
