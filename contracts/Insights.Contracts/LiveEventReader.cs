using System.Text.Json;
using static Insights.Contracts.JsonFields;

namespace Insights.Contracts;

/// <summary>
/// Reads one <see cref="LiveEvent"/> (a line of an <c>insights.enriched</c> message) in one forward pass of
/// <see cref="Utf8JsonReader"/>. It accepts exactly what the source-generated contract (<see cref="LiveEventJson"/>, which
/// still writes the events) accepts — snake_case names matched exactly, unknown fields skipped, the last of a repeated
/// field kept, the <c>required</c> fields present, a nested object's missing members left at their defaults, numbers as
/// numbers, nothing after the object — and refuses the rest with a <see cref="JsonException"/>.
/// </summary>
/// <remarks>
/// Every instance of the query API reads every live event of every site, so this is its hottest path. The generated
/// reader goes through its constructor path for the event's <c>init</c> members and for each nested positional record
/// (visit, campaigns, company, place, device, invitation): every field through an <c>object[]</c>, value-typed ones
/// boxed, and a read-stack frame per nested object — a quarter of the query API's sampled managed CPU while the
/// processors drained a backlog (benchmarks/README.md, nineteenth round). Here the fields are locals and each record is
/// built once; a known event type is this process's own string. <c>LiveEventReaderTests</c> holds it to the generated
/// contract, and the contract test decodes an event with every field set, so a field added to <see cref="LiveEvent"/>
/// and not read here fails there.
/// </remarks>
internal static class LiveEventReader
{
    public static LiveEvent? Read(ReadOnlySpan<byte> value)
    {
        var reader = new Utf8JsonReader(value);
        if (!Begin(ref reader))
        {
            return null;
        }

        // A line without "v" is version 0 (the generated reader's constructor path gives a missing member its default,
        // not the property's initializer), which decoding refuses as unknown.
        var v = 0;
        string? eventId = null, type = null, name = null, siteId = null, visitorId = null, userId = null, url = null, path = null,
            title = null, referrer = null, ip = null, userAgent = null, chatId = null, currency = null;
        DateTimeOffset? timestamp = null, receivedAt = null;
        LiveVisit? visit = null;
        LiveCampaign? campaign = null;
        LiveCompany? company = null;
        LiveGeo? geo = null;
        LiveDevice? device = null;
        LiveInvitation? invitation = null;
        Dictionary<string, string>? properties = null;
        decimal? amount = null;
        long? engagedMs = null;
        bool hasEventId = false, hasType = false, hasSiteId = false;

        while (Next(ref reader))
        {
            // Names compared as UTF-8 (escaped ones unescaped first), most frequent first; the value follows the name.
            if (Field(ref reader, "event_id"u8)) { eventId = Text(ref reader, "event_id"); hasEventId = true; }
            else if (Field(ref reader, "type"u8)) { type = KnownType(ref reader); hasType = true; }
            else if (Field(ref reader, "site_id"u8)) { siteId = Shared(ref reader, "site_id"); hasSiteId = true; }
            else if (Field(ref reader, "visitor_id"u8)) visitorId = Text(ref reader, "visitor_id");
            else if (Field(ref reader, "timestamp"u8)) timestamp = Time(ref reader, "timestamp");
            else if (Field(ref reader, "received_at"u8)) receivedAt = Time(ref reader, "received_at");
            else if (Field(ref reader, "visit"u8)) visit = Visit(ref reader);
            else if (Field(ref reader, "url"u8)) url = Shared(ref reader, "url");
            else if (Field(ref reader, "path"u8)) path = Shared(ref reader, "path");
            else if (Field(ref reader, "title"u8)) title = Shared(ref reader, "title");
            else if (Field(ref reader, "referrer"u8)) referrer = Shared(ref reader, "referrer");
            else if (Field(ref reader, "geo"u8)) geo = Geo(ref reader);
            else if (Field(ref reader, "device"u8)) device = Device(ref reader);
            else if (Field(ref reader, "ip"u8)) ip = Text(ref reader, "ip");
            else if (Field(ref reader, "company"u8)) company = Company(ref reader);
            else if (Field(ref reader, "campaign"u8)) campaign = Campaign(ref reader);
            else if (Field(ref reader, "v"u8)) v = Int(ref reader, "v") ?? throw new JsonException("'v' must be a number");
            else if (Field(ref reader, "name"u8)) name = Shared(ref reader, "name");
            else if (Field(ref reader, "user_id"u8)) userId = Text(ref reader, "user_id");
            else if (Field(ref reader, "user_agent"u8)) userAgent = Text(ref reader, "user_agent");
            else if (Field(ref reader, "chat_id"u8)) chatId = Text(ref reader, "chat_id");
            else if (Field(ref reader, "amount"u8)) amount = Decimal(ref reader, "amount");
            else if (Field(ref reader, "currency"u8)) currency = Shared(ref reader, "currency");
            else if (Field(ref reader, "engaged_ms"u8)) engagedMs = Long(ref reader, "engaged_ms");
            else if (Field(ref reader, "invitation"u8)) invitation = Invitation(ref reader);
            else if (Field(ref reader, "properties"u8)) properties = Properties(ref reader);
            else Skip(ref reader);
        }

        End(ref reader);
        if (!hasEventId || !hasType || !hasSiteId || timestamp is null || receivedAt is null)
        {
            throw new JsonException("the event misses a required field: event_id, type, site_id, timestamp and received_at must all be present");
        }

        return new LiveEvent
        {
            V = v,
            EventId = eventId!,
            Type = type!,
            Name = name,
            SiteId = siteId!,
            VisitorId = visitorId,
            UserId = userId,
            Timestamp = timestamp.Value,
            ReceivedAt = receivedAt.Value,
            Visit = visit,
            Url = url,
            Path = path,
            Title = title,
            Referrer = referrer,
            Campaign = campaign,
            Company = company,
            Geo = geo,
            Device = device,
            Ip = ip,
            UserAgent = userAgent,
            ChatId = chatId,
            Amount = amount,
            Currency = currency,
            EngagedMs = engagedMs,
            Invitation = invitation,
            Properties = properties,
        };
    }

    // ---- Nested records: null, or an object whose missing members keep their defaults (as the constructor path leaves them).

    private static LiveVisit? Visit(ref Utf8JsonReader reader)
    {
        if (!Open(ref reader, "visit"))
        {
            return null;
        }

        string? sessionId = null, channel = null, landingReferrer = null;
        DateTimeOffset startedAt = default;
        var pageViews = 0;
        LiveCampaign? campaign = null;
        while (Next(ref reader))
        {
            if (Field(ref reader, "session_id"u8)) sessionId = Text(ref reader, "visit.session_id");
            else if (Field(ref reader, "started_at"u8)) startedAt = Time(ref reader, "visit.started_at");
            else if (Field(ref reader, "page_views"u8)) pageViews = Int(ref reader, "visit.page_views") ?? throw new JsonException("'visit.page_views' is null");
            else if (Field(ref reader, "channel"u8)) channel = Shared(ref reader, "visit.channel");
            else if (Field(ref reader, "landing_referrer"u8)) landingReferrer = Shared(ref reader, "visit.landing_referrer");
            else if (Field(ref reader, "campaign"u8)) campaign = Campaign(ref reader);
            else Skip(ref reader);
        }

        return new LiveVisit(sessionId!, startedAt, pageViews, channel, landingReferrer, campaign);
    }

    private static LiveCampaign? Campaign(ref Utf8JsonReader reader)
    {
        if (!Open(ref reader, "campaign"))
        {
            return null;
        }

        string? source = null, medium = null, name = null, term = null, content = null;
        while (Next(ref reader))
        {
            if (Field(ref reader, "source"u8)) source = Shared(ref reader, "campaign.source");
            else if (Field(ref reader, "medium"u8)) medium = Shared(ref reader, "campaign.medium");
            else if (Field(ref reader, "name"u8)) name = Shared(ref reader, "campaign.name");
            else if (Field(ref reader, "term"u8)) term = Shared(ref reader, "campaign.term");
            else if (Field(ref reader, "content"u8)) content = Shared(ref reader, "campaign.content");
            else Skip(ref reader);
        }

        return new LiveCampaign(source, medium, name, term, content);
    }

    private static LiveCompany? Company(ref Utf8JsonReader reader)
    {
        var (id, name, domain) = Three(ref reader, "company", "id"u8, "name"u8, "domain"u8, out var present);
        return present ? new LiveCompany(id!, name!, domain) : null;
    }

    private static LiveGeo? Geo(ref Utf8JsonReader reader)
    {
        var (country, region, city) = Three(ref reader, "geo", "country"u8, "region"u8, "city"u8, out var present);
        return present ? new LiveGeo(country!, region, city) : null;
    }

    private static LiveDevice? Device(ref Utf8JsonReader reader)
    {
        var (type, browser, os) = Three(ref reader, "device", "type"u8, "browser"u8, "os"u8, out var present);
        return present ? new LiveDevice(type!, browser!, os!) : null;
    }

    private static LiveInvitation? Invitation(ref Utf8JsonReader reader)
    {
        var (id, rule, message) = Three(ref reader, "invitation", "id"u8, "rule"u8, "message"u8, out var present);
        return present ? new LiveInvitation(id!, rule, message) : null;
    }

    /// <summary>An object of three string members (company, geo, device, invitation); <paramref name="present"/> false for null.</summary>
    private static (string? First, string? Second, string? Third) Three(ref Utf8JsonReader reader, string what,
        ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, ReadOnlySpan<byte> third, out bool present)
    {
        present = Open(ref reader, what);
        string? a = null, b = null, c = null;
        while (present && Next(ref reader))
        {
            if (Field(ref reader, first)) a = Shared(ref reader, what);
            else if (Field(ref reader, second)) b = Shared(ref reader, what);
            else if (Field(ref reader, third)) c = Shared(ref reader, what);
            else Skip(ref reader);
        }

        return (a, b, c);
    }

    /// <summary>The site's live values: an object of strings (a null value stays null), as a dictionary in the order written.</summary>
    private static Dictionary<string, string>? Properties(ref Utf8JsonReader reader)
    {
        if (!Open(ref reader, "properties"))
        {
            return null;
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        while (Next(ref reader))
        {
            var key = reader.GetString()!;
            reader.Read();
            properties[key] = Text(ref reader, "properties")!;
        }

        return properties;
    }

    // ---- Tokens.

    /// <summary>True at an object's start, false at null; anything else is refused.</summary>
    private static bool Open(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return false;
        }

        return reader.TokenType == JsonTokenType.StartObject
            ? true
            : throw new JsonException($"'{what}' must be a JSON object, not a JSON {reader.TokenType}");
    }

    /// <summary>Moves to the next member of the open object: true on its name, false at the object's end.</summary>
    private static bool Next(ref Utf8JsonReader reader) => reader.Read() && reader.TokenType == JsonTokenType.PropertyName;

    /// <summary>At a member's name: if it is <paramref name="name"/>, moves to its value and says so.</summary>
    private static bool Field(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (!reader.ValueTextEquals(name))
        {
            return false;
        }

        reader.Read();
        return true;
    }

    /// <summary>At a member's name none of ours matched: passes over its value, whatever it holds.</summary>
    private static void Skip(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }
}
